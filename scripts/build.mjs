#!/usr/bin/env node
/**
 * Bundles each Lambda function into its own fresh folder under dist/
 * (dist/<fn>/index.js + source map, ready for a Pulumi FileArchive), plus the
 * local runtime, the terminal client, the client SDK and the installable packages
 * (dist/packages/*.tgz, scripts/build-packages.mjs). Prints every bundle's size. Last,
 * renders the `local` stack's manifest, dist/deployment.json (docs/synth.md),
 * from the function bundles just built.
 *
 * Powertools Tracer (with aws-xray-sdk-core) is bundled on its own, beside
 * each function at dist/<fn>/node_modules/@aws-lambda-powertools/tracer/,
 * where Node resolves the function's `require` of it: only a function with
 * tracing on loads it (functions/tracing.ts).
 *
 *   node scripts/build.mjs            all bundles
 *   node scripts/build.mjs --functions-only
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, rmSync, mkdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runSynth } from './synth.mjs';
import { declaredFunctionNames, functionBundleOptions, ON_DEMAND_MODULES } from './function-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The functions, read from their one declaration (functions/core/function-declarations.ts). */
export const FUNCTIONS = await declaredFunctionNames(root);

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

const onDemand = [];
for (const name of ON_DEMAND_MODULES) {
  const outfile = join('dist', '.on-demand', name, 'index.js');
  rmSync(join(root, dirname(outfile)), { recursive: true, force: true });
  await build({
    ...common,
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: root, loader: 'js' },
    outfile,
    target: 'node22',
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: false,
  });
  onDemand.push({ name, outfile, bytes: statSync(join(root, outfile)).size });
}

for (const fn of FUNCTIONS) {
  rmSync(join(root, 'dist', fn), { recursive: true, force: true });
  mkdirSync(join(root, 'dist', fn), { recursive: true });
  const outfile = join('dist', fn, 'index.js');
  await build(functionBundleOptions(root, fn, { outfile: join(root, outfile) }));
  report.push({ outfile, bytes: statSync(join(root, outfile)).size });
  for (const { name, outfile, bytes } of onDemand) {
    const target = join('dist', fn, 'node_modules', name, 'index.js');
    mkdirSync(join(root, dirname(target)), { recursive: true });
    copyFileSync(join(root, outfile), join(root, target));
    report.push({ outfile: target, bytes });
  }
}
rmSync(join(root, 'dist', '.on-demand'), { recursive: true, force: true });

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
