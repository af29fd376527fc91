// Top self time of each .cpuprofile given (every thread of a --cpu-prof run writes its own):
// node --import tsx bench/lib/prof-top.ts DIR/*.cpuprofile
import { topSelf } from './cpuprofile.ts';
for (const f of process.argv.slice(2)) { const r = topSelf(f, 25); console.log(f, r.totalMs.toFixed(0), 'ms'); for (const x of r.rows) console.log(x.selfPct.toFixed(1).padStart(6), x.name, x.where); }
