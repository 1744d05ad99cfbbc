#!/usr/bin/env node
/**
 * `npm run bench`: bundles the benchmark (bench/*.ts) with esbuild into
 * dist/bench/ and runs it. Arguments pass through:
 *
 *   npm run bench                 the full suite (about 8 minutes)
 *   npm run bench -- --quick      a shorter run of every section (under 2 minutes)
 *   npm run bench -- --only sync,async
 *
 * Expects the function and runtime bundles (`npm run build`) to exist.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const fn of ['connect', 'disconnect', 'router', 'processor', 'local']) {
  if (!existsSync(join(root, 'dist', fn, 'index.js'))) {
    console.error(`dist/${fn}/index.js is missing: run \`npm run build\` first (npm run bench does).`);
    process.exit(1);
  }
}

await build({
  entryPoints: { index: 'bench/run.ts', 'connection-holder': 'bench/connection-holder.ts', 'summarise-profile': 'bench/summarise-profile.ts' },
  outdir: 'dist/bench',
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Dependencies load from node_modules at run time, as the tests load them.
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});

const child = spawn(process.execPath, ['--enable-source-maps', join(root, 'dist', 'bench', 'index.js'), ...process.argv.slice(2)], {
  cwd: root,
  // The cost section runs the AWS SDK in this process: its Node-version notice is noise here.
  env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
