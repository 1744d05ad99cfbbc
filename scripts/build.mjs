#!/usr/bin/env node
/**
 * Bundles each Lambda function into its own fresh folder under dist/
 * (dist/<fn>/index.js + source map, ready for a Pulumi FileArchive), plus the
 * local runtime, the terminal client, the client SDK and the installable packages
 * (dist/packages/*.tgz, scripts/build-packages.mjs). Prints every bundle's size. Last,
 * renders the `local` stack's manifest, dist/deployment.json (docs/synth.md),
 * from the function bundles just built.
 *
 * The function bundles come from infra/function-bundles.ts, the module the
 * Pulumi program bundles with while it runs: one set of esbuild options for
 * what the local runtime runs and what a stack ships.
 *
 *   node scripts/build.mjs            all bundles
 *   node scripts/build.mjs --functions-only
 */
import { build } from 'esbuild';
import { existsSync, rmSync, mkdirSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadFunctionBundler } from './function-bundle.mjs';
import { runSynth } from './synth.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const bundler = await loadFunctionBundler();
/** The functions, read from their one declaration (functions/core/function-declarations.ts). */
export const FUNCTIONS = bundler.FUNCTION_NAMES;

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

// The local stack runs with source maps (readable stack traces while developing); its manifest
// (below) ships exactly these bundles, checked against their sources (streamer:prebuiltBundles dist).
const functionBundles = bundler.buildFunctionBundles({ root, outDir: join(root, 'dist'), settings: { sourceMaps: true } });
for (const fn of FUNCTIONS) report.push({ outfile: relative(root, join(functionBundles[fn].dir, 'index.js')), bytes: functionBundles[fn].bytes });

if (!functionsOnly) {
  report.push(await bundle('local/main.ts', 'dist/local', { target: 'node20', external: ['fsevents'] }));
  // Each Lambda container is a worker thread running this bootstrap around one function bundle.
  const containerBootstrap = join('dist', 'local', 'lambda-container.js');
  await build({ ...common, entryPoints: ['local/lambda-container-worker.ts'], outfile: containerBootstrap, target: 'node20' });
  report.push({ outfile: containerBootstrap, bytes: statSync(join(root, containerBootstrap)).size });
  report.push(await bundle('local/token-cli.ts', 'dist/token', { target: 'node20' }));
  report.push(await bundle('local/iam-report.ts', 'dist/iam-report', { target: 'node20' }));
  if (existsSync(join(root, 'client/cli/main.ts'))) {
    report.push(await bundle('client/cli/main.ts', 'dist/cli', { target: 'node20' }));
  }
  const clientBuild = join(root, 'scripts/build-client.mjs');
  if (existsSync(clientBuild)) {
    const { buildClient } = await import(pathToFileURL(clientBuild).href);
    for (const out of await buildClient(root)) report.push(out);
    const { buildPackages } = await import(pathToFileURL(join(root, 'scripts/build-packages.mjs')).href);
    for (const out of await buildPackages(root)) report.push(out);
  }
}

const width = Math.max(32, ...report.map(({ outfile }) => outfile.length + 1));
for (const { outfile, bytes } of report) {
  console.log(`${outfile.padEnd(width)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB`);
}
console.log(`built ${report.length} bundles in ${Date.now() - started} ms`);

// The program refuses to render without the function bundles, so synth comes after them.
const synthStarted = Date.now();
const synthStatus = await runSynth(['--stack', 'local']);
if (synthStatus !== 0) {
  console.error('synth failed: dist/deployment.json was not written');
  process.exit(synthStatus);
}
console.log(`synth took ${Date.now() - synthStarted} ms`);
