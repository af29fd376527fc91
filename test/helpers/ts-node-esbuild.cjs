'use strict';
// ts-node transpiler for the test files tap runs (tsconfig.tap.json `ts-node.transpiler`).
// tap's @tapjs/typescript plugin loads test files through ts-node in transpile-only mode, whose
// default transpiler is TypeScript's own transpileModule: ~2 s of CPU per test file to re-emit
// the src/ tree it imports, in each of the ~150 test processes (nothing is cached between them).
// esbuild (a devDependency; the same transform tsx applies to the gateway processes the tests
// start) emits the same JavaScript in milliseconds. Types are not checked here either way:
// `npm run typecheck` (tsc --noEmit) does that. Only the TypeScript options that change the
// emitted JavaScript are passed: target, verbatimModuleSyntax, useDefineForClassFields.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { transformSync } = require('esbuild');

/** @type {import('@isaacs/ts-node-temp-fork-for-pr-2009/dist/transpilers/types').TranspilerFactory} */
exports.create = function create() {
  const { compilerOptions = {} } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'tsconfig.json'), 'utf8'));
  const tsconfigRaw = {
    compilerOptions: {
      target: compilerOptions.target,
      verbatimModuleSyntax: compilerOptions.verbatimModuleSyntax,
      useDefineForClassFields: compilerOptions.useDefineForClassFields,
    },
  };
  return {
    transpile(input, { fileName }) {
      const r = transformSync(input, {
        loader: /\.[cm]?tsx$/.test(fileName) ? 'tsx' : 'ts',
        format: /\.cts$/.test(fileName) ? 'cjs' : 'esm',
        target: String(compilerOptions.target ?? 'es2022').toLowerCase(),
        tsconfigRaw,
        sourcemap: 'external',
        sourcefile: fileName,
      });
      return { outputText: r.code, sourceMapText: r.map };
    },
  };
};
