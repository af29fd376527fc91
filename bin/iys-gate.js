#!/usr/bin/env node
// Entry of the `iys-gate` command: runs the TypeScript CLI through tsx (a runtime dependency).
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli.ts');
const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
