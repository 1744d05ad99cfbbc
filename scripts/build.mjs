#!/usr/bin/env node
/**
 * Bundles each Lambda function into its own fresh folder under dist/
 * (dist/<fn>/index.js + source map, ready for a Pulumi FileArchive), plus the
 * local runtime and the terminal client. Prints every bundle's size.
 *
 *   node scripts/build.mjs            all bundles
 *   node scripts/build.mjs --functions-only
 */
import { build } from 'esbuild';
import { existsSync, rmSync, mkdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FUNCTIONS = ['connect', 'disconnect', 'router', 'processor'];

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

async function bundle(entry, outdir, options = {}) {
  rmSync(join(root, outdir), { recursive: true, force: true });
  mkdirSync(join(root, outdir), { recursive: true });
  const outfile = join(outdir, 'index.js');
  await build({ ...common, entryPoints: [entry], outfile, ...options });
  return { outfile, bytes: statSync(join(root, outfile)).size };
}

const functionsOnly = process.argv.includes('--functions-only');
const started = Date.now();
const report = [];

for (const fn of FUNCTIONS) {
  // The Lambda runtime (nodejs22.x) ships no AWS SDK we rely on: bundle ours so the
  // deployed code is exactly the tested code. Minified to keep cold starts short.
  const out = await bundle(`functions/${fn}/index.ts`, `dist/${fn}`, { target: 'node22', minify: true });
  report.push(out);
}

if (!functionsOnly) {
  report.push(await bundle('local/main.ts', 'dist/local', { target: 'node20', external: ['fsevents'] }));
  if (existsSync(join(root, 'client/cli/main.ts'))) {
    report.push(await bundle('client/cli/main.ts', 'dist/cli', { target: 'node20' }));
  }
  const clientBuild = join(root, 'scripts/build-client.mjs');
  if (existsSync(clientBuild)) {
    const { buildClient } = await import(pathToFileURL(clientBuild).href);
    for (const out of await buildClient(root)) report.push(out);
  }
}

for (const { outfile, bytes } of report) {
  console.log(`${outfile.padEnd(32)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB`);
}
console.log(`built ${report.length} bundles in ${Date.now() - started} ms`);
