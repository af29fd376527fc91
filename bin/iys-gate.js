#!/usr/bin/env node
// Entry of the `iys-gate` command: runs the TypeScript CLI through tsx (a runtime dependency).
// Every failure ends as one line `iys-gate: <code>: <message>` and exit code 1, never a stack trace.
import { register } from 'tsx/esm/api';
register();
try {
  const { main } = await import('../src/cli.ts');
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exitCode = code;
} catch (err) {
  process.stderr.write(`iys-gate: ${err?.code ?? 'error'}: ${err?.message ?? err}\n`);
  process.exitCode = 1;
}
