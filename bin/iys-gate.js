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
  const message = String(err?.message ?? err);
  const code = err?.code ?? 'error';
  // Node's fs errors already start with their code ("ENOENT: no such file…"): not said twice
  process.stderr.write(`iys-gate: ${message.startsWith(`${code}:`) ? '' : `${code}: `}${message}\n`);
  process.exitCode = 1;
}
