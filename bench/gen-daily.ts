/**
 * Generates an İYS daily movement file (API.md, layout
 * `creationDate,transactionId,recipient,recipientType,type,status,consentDate,source`) with
 * realistic, deterministic data (seeded PRNG: the same arguments always give the same bytes).
 *
 * Mix per row: 85% phones (77% Turkish mobiles `+905…`, 8% landlines `+90212/216/312/232/…`,
 * ARAMA only), 15% e-mail addresses (EPOSTA); mobiles are MESAJ 60% / ARAMA 40%; BIREYSEL 90% /
 * TACIR 10% (half the TACIR rows without source and consentDate, as İYS sends them); ONAY 80% /
 * RET 20% (RET sources lean to İYS channels); 0.05% of mobiles in the legacy `+9005…` form
 * (field case C01); `repeat` (default 2%) of rows are a later movement of an earlier key (status
 * flip, later dates). creationDate runs through one day (2026-11-28, Turkish time); consentDate is
 * at or before it (2015-05-01 – 2026; HS_2015 always exactly 2015-05-01 00:00:00, H155). transactionId: 64 hex digits.
 *
 * Run: `node --import tsx bench/gen-daily.ts [--rows 1000000] [--out bench/data/iys-daily-1m.csv]
 * [--seed 1] [--repeat 0.02]`. Keys `k` are drawn so that {@link mobileFor}(k) for k ≥ rows is
 * never in the file (the check benchmarks use those as unknown recipients).
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const HEADER = 'creationDate,transactionId,recipient,recipientType,type,status,consentDate,source';

/** Mobile prefixes in use (Turkcell 53x, Vodafone 54x, Türk Telekom 50x/55x). */
const MOBILE = ['530', '531', '532', '533', '534', '535', '536', '537', '538', '539', '541', '542', '543', '544', '545',
  '546', '547', '548', '549', '501', '505', '506', '507', '551', '552', '553', '554', '555', '559', '561'] as const;
const LANDLINE = ['212', '216', '312', '232', '224', '242', '322', '262', '352', '442'] as const;
const FIRST = ['ayse', 'mehmet', 'fatma', 'mustafa', 'emine', 'ahmet', 'hatice', 'ali', 'zeynep', 'huseyin', 'elif', 'hasan', 'merve', 'ibrahim', 'busra', 'murat', 'esra', 'omer', 'ozlem', 'can'] as const;
const LAST = ['yilmaz', 'kaya', 'demir', 'sahin', 'celik', 'yildiz', 'yildirim', 'ozturk', 'aydin', 'ozdemir', 'arslan', 'dogan', 'kilic', 'aslan', 'cetin', 'kara', 'koc', 'kurt', 'ozkan', 'simsek'] as const;
const DOMAINS = ['gmail.com', 'hotmail.com', 'yahoo.com', 'outlook.com', 'icloud.com', 'yandex.com.tr', 'firma.com.tr', 'example.com.tr', 'ornek.net', 'sirket.com'] as const;
const ONAY_SOURCES = ['HS_WEB', 'HS_WEB', 'HS_WEB', 'HS_MOBIL', 'HS_MOBIL', 'HS_FIZIKSEL_ORTAM', 'HS_ISLAK_IMZA', 'HS_CAGRI_MERKEZI', 'HS_ETKINLIK', 'HS_EORTAM', 'HS_SOSYAL_MEDYA', 'HS_ATM', 'IYS_WEB', 'IYS_MOBIL'] as const;
const RET_SOURCES = ['IYS_KISAMESAJ', 'IYS_KISAMESAJ', 'IYS_WEB', 'IYS_MOBIL', 'IYS_CM', 'IYS_AHS_HAT_KAPATMA', 'HS_WEB', 'HS_MESAJ', 'HS_CAGRI_MERKEZI', 'HS_KARAR'] as const;

/** The mobile number of key `k` (a bijection: distinct k → distinct numbers, for k < 3·10^8). */
export function mobileFor(k: number): string {
  const rest = ((Math.floor(k / MOBILE.length) * 7_654_321 + 1_234_567) % 10_000_000).toString().padStart(7, '0');
  return `+90${MOBILE[k % MOBILE.length]}${rest}`;
}
function landlineFor(k: number): string {
  const rest = ((Math.floor(k / LANDLINE.length) * 3_141_593 + 2_718_281) % 10_000_000).toString().padStart(7, '0');
  return `+90${LANDLINE[k % LANDLINE.length]}${rest}`;
}
function emailFor(k: number): string {
  return `${FIRST[k % FIRST.length]}.${LAST[Math.floor(k / FIRST.length) % LAST.length]}${k}@${DOMAINS[Math.floor(k / 400) % DOMAINS.length]}`;
}

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad2 = (n: number) => (n < 10 ? '0' : '') + n;
/** Seconds since 2015-01-01 00:00:00 (Turkish wall clock, no DST since 2016) → `YYYY-MM-DD HH:mm:ss`. */
function iysDate(epochS: number): string {
  const d = new Date(epochS * 1000);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}
const DAY_START = Date.UTC(2026, 10, 28) / 1000; // 2026-11-28 00:00:00 wall clock
const S2015 = Date.UTC(2015, 4, 1) / 1000; // 2015-05-01 00:00:00: İYS's first possible consentDate (H156)
const S2016 = Date.UTC(2016, 0, 1) / 1000;

export interface GenOptions { rows: number; out: string; seed?: number; repeat?: number }
export interface GenStats { rows: number; keys: number; bytes: number; seconds: number; reused: boolean }

/**
 * Writes the file unless one generated with the same options already exists (`<out>.meta.json`).
 * @returns rows written, distinct keys, bytes and generation time (0 when reused)
 */
export async function generateDaily(opts: GenOptions): Promise<GenStats> {
  const seed = opts.seed ?? 1;
  const repeat = opts.repeat ?? 0.02;
  const metaPath = `${opts.out}.meta.json`;
  const want = { rows: opts.rows, seed, repeat, version: 2 };
  if (existsSync(opts.out) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as typeof want & { keys: number; bytes: number };
    if (meta.rows === want.rows && meta.seed === seed && meta.repeat === repeat && meta.version === want.version && statSync(opts.out).size === meta.bytes) {
      return { rows: meta.rows, keys: meta.keys, bytes: meta.bytes, seconds: 0, reused: true };
    }
  }
  mkdirSync(dirname(opts.out), { recursive: true });
  const t0 = process.hrtime.bigint();
  const rnd = prng(seed);
  const out = createWriteStream(opts.out);
  // Keys written so far, for repeats: [recipient, recipientType, type, status, consentDateS].
  const seen: Array<[string, string, string, string, number]> = [];
  let chunk: string[] = [HEADER];
  let bytes = 0;
  let lastCreationS = -1; let lastCreation = '';
  let mobileK = 0; let landK = 0; let mailK = 0;
  const write = async () => {
    const s = chunk.join('\n') + '\n';
    bytes += Buffer.byteLength(s);
    chunk = [];
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  for (let i = 0; i < opts.rows; i++) {
    const creationS = DAY_START + Math.floor((i * 86_399) / opts.rows);
    let tx = '';
    for (let j = 0; j < 8; j++) tx += ((rnd() * 4294967296) >>> 0).toString(16).padStart(8, '0');
    let recipient: string; let rt: string; let type: string; let status: string; let consentS: number;
    let source: string;
    const prev = seen.length > 1000 && rnd() < repeat ? seen[(rnd() * seen.length) | 0]! : null;
    if (prev) {
      [recipient, rt, type] = prev;
      status = prev[3] === 'ONAY' ? 'RET' : 'ONAY';
      consentS = Math.min(creationS, Math.max(prev[4] + 1, creationS - Math.floor(rnd() * 600)));
      prev[3] = status; prev[4] = consentS;
    } else {
      const u = rnd();
      if (u < 0.77) {
        recipient = mobileFor(mobileK++);
        if (rnd() < 0.0005) recipient = `+900${recipient.slice(3)}`; // legacy `+9005…` (C01)
        type = rnd() < 0.6 ? 'MESAJ' : 'ARAMA';
      } else if (u < 0.85) {
        recipient = landlineFor(landK++); type = 'ARAMA';
      } else {
        recipient = emailFor(mailK++); type = 'EPOSTA';
      }
      rt = rnd() < 0.9 ? 'BIREYSEL' : 'TACIR';
      status = rnd() < 0.8 ? 'ONAY' : 'RET';
      const old = rnd();
      consentS = old < 0.05 ? S2015 + Math.floor(rnd() * 240 * 86_400)
        : old < 0.6 ? S2016 + Math.floor(rnd() * (creationS - S2016))
          : creationS - Math.floor(rnd() * 3 * 86_400);
      if (consentS > creationS) consentS = creationS;
      seen.push([recipient, rt, type, status, consentS]);
    }
    if (status === 'ONAY') {
      source = consentS < S2016 && rnd() < 0.7 ? 'HS_2015' : ONAY_SOURCES[(rnd() * ONAY_SOURCES.length) | 0]!;
      if (source === 'HS_2015' && consentS >= S2016) source = 'HS_WEB';
      if (source === 'HS_2015') consentS = S2015; // HS_2015 carries exactly 2015-05-01 00:00:00 (H155)
    } else source = RET_SOURCES[(rnd() * RET_SOURCES.length) | 0]!;
    const bare = rt === 'TACIR' && rnd() < 0.5;
    if (creationS !== lastCreationS) { lastCreationS = creationS; lastCreation = iysDate(creationS); }
    chunk.push(`${lastCreation},${tx},${recipient},${rt},${type},${status},${bare ? '' : iysDate(consentS)},${bare ? '' : source}`);
    if (chunk.length >= 10_000) await write();
  }
  await write();
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const keys = seen.length;
  writeFileSync(metaPath, JSON.stringify({ ...want, keys, bytes }) + '\n');
  return { rows: opts.rows, keys, bytes, seconds: Number(process.hrtime.bigint() - t0) / 1e9, reused: false };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, repeat: { type: 'string' } } });
  const rows = Number(values.rows ?? 1_000_000);
  const out = values.out ?? join(dirname(new URL(import.meta.url).pathname), 'data', `iys-daily-${rows >= 1e6 && rows % 1e6 === 0 ? `${rows / 1e6}m` : rows}.csv`);
  const s = await generateDaily({ rows, out, seed: Number(values.seed ?? 1), repeat: Number(values.repeat ?? 0.02) });
  process.stdout.write(`${out}: ${s.rows.toLocaleString('en-US')} rows, ${s.keys.toLocaleString('en-US')} distinct keys, ${(s.bytes / 1e6).toFixed(1)} MB` +
    (s.reused ? ' (already there)\n' : ` in ${s.seconds.toFixed(1)} s\n`));
}
