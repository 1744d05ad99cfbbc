#!/usr/bin/env node
/**
 * `npm run dev`: the local runtime, rebuilt and reloaded on every change
 * under functions/.
 *
 *   node scripts/dev.mjs [runtime flags: --port 3001 --persist .streamer/db …]
 *                        [--skip-build] [--functions-dir functions] [--out-dir dist]
 *
 * 1. `npm run build` once (skip with --skip-build when dist/ is current);
 * 2. the runtime, as `npm start` runs it, with STREAMER_LOCAL_RELOAD=1: a
 *    function whose bundle changes on disk gets its containers replaced
 *    (idle ones now, busy ones after their invocation, which finishes on the
 *    old code), while the gateway keeps every connection open;
 * 3. one incremental esbuild context per function, built with the same
 *    options as `npm run build` (scripts/function-bundle.mjs); a change under
 *    the functions folder rebuilds the functions whose last build read the
 *    changed file (all of them after a failed build), in parallel; each bundle
 *    whose bytes changed is written as soon as it is built (renamed over the
 *    old file, never half-written).
 *
 * A failed rebuild is printed once (the same errors again are not
 * repeated) and the failed bundles are not written: the last good build
 * keeps serving.
 * The deployment itself (env, IAM, tables) is rendered from
 * functions/core/function-declarations.ts at build time: a change there is
 * reported and needs a restart.
 *
 * --functions-dir/--out-dir serve a copy of the functions (tests): the
 * bundles go to <out-dir>/<fn>/ and the runtime runs those
 * (STREAMER_LOCAL_FUNCTIONS_DIR) with the manifest's environments and roles.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, watch, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, formatMessages } from 'esbuild';
import { declaredFunctionNames, functionBundleOptions } from './function-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Quiet time after the last file event before a rebuild (an editor's save is several events). */
const SETTLE_MS = 50;

const { runtimeArgs, skipBuild, functionsDir, outDir } = parseArgs(process.argv.slice(2));
/** Last printed failure: the same errors are printed once, not on every save. */
let lastFailure = '';
let lastBuildFailed = false;
const say = (message) => process.stdout.write(`[dev] ${message}\n`);

if (!skipBuild) {
  const built = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
for (const needed of ['dist/deployment.json', 'dist/local/index.js']) {
  if (!existsSync(join(root, needed))) {
    process.stderr.write(`[dev] ${needed} is missing: run npm run build (or drop --skip-build)\n`);
    process.exit(1);
  }
}

const functions = await declaredFunctionNames(root);
const contexts = new Map();
for (const fn of functions) {
  const outfile = join(outDir, fn, 'index.js');
  // The metafile says which sources each bundle read; it changes nothing in the bundle.
  contexts.set(fn, await context({ ...functionBundleOptions(root, fn, { outfile, functionsDir, logLevel: 'silent', write: false }), metafile: true }));
}

const separateOutput = resolve(outDir) !== resolve(root, 'dist');
if (separateOutput) {
  // A copy of the functions runs beside the build: it needs the modules shipped beside each bundle too.
  for (const fn of functions) {
    const shipped = join(root, 'dist', fn, 'node_modules');
    if (existsSync(shipped)) cpSync(shipped, join(outDir, fn, 'node_modules'), { recursive: true });
  }
}
/** Absolute paths of the sources each function's last good build read. */
const inputsOf = new Map();
if (!(await rebuild('initial build', functions))) {
  process.stderr.write('[dev] the functions do not build: fix the errors above and start again\n');
  process.exit(1);
}

const runtime = spawn(process.execPath, ['--enable-source-maps', join(root, 'dist/local/index.js'), ...runtimeArgs], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, STREAMER_LOCAL_RELOAD: '1', ...(separateOutput && { STREAMER_LOCAL_FUNCTIONS_DIR: outDir }) },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => runtime.kill(signal));
runtime.on('exit', async (code, signal) => {
  watcher.close();
  await Promise.all([...contexts.values()].map((ctx) => ctx.dispose()));
  process.exit(code ?? (signal ? 1 : 0));
});

let timer;
let running = Promise.resolve();
/** Changed sources since the last rebuild; null: unknown (rebuild everything). */
let pending = new Set();
const watcher = watch(functionsDir, { recursive: true }, (_event, file) => {
  if (file !== null && !/\.(ts|js|mjs|cjs|json)$/.test(file)) return;
  if (file !== null && file === join('core', 'function-declarations.ts')) {
    say('functions/core/function-declarations.ts changed: environments and IAM are rendered from it at build time; restart npm run dev to apply them');
  }
  if (file === null) pending = null;
  else pending?.add(resolve(functionsDir, file));
  clearTimeout(timer);
  timer = setTimeout(() => {
    const changed = pending;
    pending = new Set();
    running = running.then(() => rebuild('rebuilt', affected(changed)));
  }, SETTLE_MS);
});

/** The functions a change can alter: those whose last build read a changed file; all after a failure. */
function affected(changed) {
  if (changed === null || lastBuildFailed) return functions;
  return functions.filter((fn) => [...changed].some((file) => inputsOf.get(fn)?.has(file)));
}
say(`watching ${relative(root, functionsDir) || functionsDir} for changes`);

/**
 * Rebuilds `names` in parallel; each function whose build succeeds and whose
 * bytes changed is written at once (the runtime picks it up), so the first
 * finished bundle serves without waiting for the others. A failed function
 * keeps its last good bundle; the errors are printed once.
 */
async function rebuild(what, names) {
  if (names.length === 0) return true;
  const started = Date.now();
  const changed = [];
  const results = await Promise.allSettled(
    names.map(async (fn) => {
      const result = await contexts.get(fn).rebuild();
      inputsOf.set(fn, new Set(Object.keys(result.metafile.inputs).map((input) => resolve(root, input))));
      if (writeChanged(result.outputFiles)) changed.push(fn);
    }),
  );
  const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  lastBuildFailed = failures.length > 0;
  if (failures.length > 0) {
    const messages = failures.flatMap((failure) => failure.errors ?? [{ text: String(failure) }]);
    const unique = [...new Map(messages.map((m) => [`${m.location?.file}:${m.location?.line}:${m.location?.column} ${m.text}`, m])).values()];
    const text = (await formatMessages(unique, { kind: 'error', color: process.stderr.isTTY })).join('');
    if (text !== lastFailure) {
      lastFailure = text;
      process.stderr.write(`[dev] build failed; the last good build keeps serving:\n${text}`);
    }
    return false;
  }
  lastFailure = '';
  say(`${what} ${names.join(', ')} in ${Date.now() - started} ms: ${changed.length > 0 ? `new code for ${changed.join(', ')}` : 'no bundle changed'}`);
  return true;
}

/** Writes the outputs whose bytes changed, each renamed over the old file; true when the bundle itself changed. */
function writeChanged(outputFiles) {
  let wroteBundle = false;
  // The map first, the bundle last: the runtime reloads on the bundle.
  const ordered = [...outputFiles.filter((o) => o.path.endsWith('.map')), ...outputFiles.filter((o) => !o.path.endsWith('.map'))];
  for (const output of ordered) {
    if (existsSync(output.path) && Buffer.compare(readFileSync(output.path), output.contents) === 0) continue;
    mkdirSync(dirname(output.path), { recursive: true });
    const staging = `${output.path}.${process.pid}.tmp`;
    writeFileSync(staging, output.contents);
    renameSync(staging, output.path);
    if (!output.path.endsWith('.map')) wroteBundle = true;
  }
  return wroteBundle;
}

function parseArgs(argv) {
  const runtimeArgs = [];
  let skipBuild = false;
  let functionsDir = join(root, 'functions');
  let outDir = join(root, 'dist');
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--skip-build') skipBuild = true;
    else if (arg === '--functions-dir') functionsDir = resolve(argv[++i]);
    else if (arg === '--out-dir') outDir = resolve(argv[++i]);
    else runtimeArgs.push(arg);
  }
  return { runtimeArgs, skipBuild, functionsDir, outDir };
}
