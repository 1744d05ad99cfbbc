#!/usr/bin/env node
/**
 * Builds the client SDK and the dashboard (called by scripts/build.mjs, or
 * run alone: `node scripts/build-client.mjs [--no-types]`).
 *
 *   dist/client/index.mjs      the SDK for browsers (and Node ≥ 22), ESM, no Node built-ins
 *   dist/client/node.mjs       the Node entry (supplies `ws`, kept external)
 *   dist/client/types/…        .d.ts for both entries (and the protocol types they use)
 *   dist/client/package.json   the publishable manifest (packages/client/package.json, version filled in)
 *   dist/dashboard/app.js      the dashboard page's script (bundles the browser SDK)
 *   dist/dashboard/*.html|css  copied as is
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/**
 * @param {string} root the repository root
 * @param {{ types?: boolean }} [options] `types: false` skips the .d.ts emit (the slowest step)
 * @returns {Promise<Array<{ outfile: string, bytes: number }>>} every output, relative to root
 */
export async function buildClient(root, options = {}) {
  const types = options.types ?? true;
  const clientDir = join(root, 'dist/client');
  const dashboardDir = join(root, 'dist/dashboard');
  for (const dir of [clientDir, dashboardDir]) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }

  const browser = {
    bundle: true,
    platform: 'browser',
    target: 'es2020',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: root,
  };
  const sdk = await build({ ...browser, entryPoints: ['client/index.ts'], outfile: 'dist/client/index.mjs', format: 'esm' });
  assertBrowserSafe(sdk.metafile, 'client/index.ts');
  const dashboard = await build({ ...browser, entryPoints: ['client/dashboard/app.ts'], outfile: 'dist/dashboard/app.js', format: 'esm', minify: true });
  assertBrowserSafe(dashboard.metafile, 'client/dashboard/app.ts');
  await build({
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: true,
    logLevel: 'warning',
    absWorkingDir: root,
    entryPoints: ['client/node.ts'],
    outfile: 'dist/client/node.mjs',
    external: ['ws'],
  });

  for (const file of readdirSync(join(root, 'client/dashboard'))) {
    if (file.endsWith('.html') || file.endsWith('.css')) copyFileSync(join(root, 'client/dashboard', file), join(dashboardDir, file));
  }

  const outputs = ['dist/client/index.mjs', 'dist/client/node.mjs', 'dist/dashboard/app.js'];
  if (types) {
    const written = await emitDeclarations(root, [join(root, 'client/index.ts'), join(root, 'client/node.ts')], join(clientDir, 'types'));
    outputs.push(...written.filter((f) => f.endsWith('client/index.d.ts') || f.endsWith('client/node.d.ts')));
  }
  writeFileSync(join(clientDir, 'package.json'), `${JSON.stringify(packageManifest(root, 'client'), null, 2)}\n`);
  copyFileSync(join(root, 'packages/client/README.md'), join(clientDir, 'README.md'));
  outputs.push('dist/client/package.json');
  for (const file of readdirSync(dashboardDir)) if (!file.startsWith('app.js')) outputs.push(`dist/dashboard/${file}`);

  return outputs.map((outfile) => ({ outfile, bytes: statSync(join(root, outfile)).size }));
}

/** The browser bundle must run without Node: no built-in may be imported, even transitively. */
function assertBrowserSafe(metafile, entry) {
  for (const output of Object.values(metafile.outputs)) {
    const builtins = (output.imports ?? []).filter((i) => NODE_BUILTINS.has(i.path)).map((i) => i.path);
    if (builtins.length > 0) throw new Error(`${entry}: the browser bundle imports Node built-ins: ${builtins.join(', ')}`);
  }
  const fromPackages = Object.keys(metafile.inputs).filter((input) => input.includes('node_modules/'));
  if (fromPackages.length > 0) throw new Error(`${entry}: the browser bundle pulled in packages: ${fromPackages.join(', ')}`);
}

/**
 * .d.ts for the given entries; the (type-only) modules they import come along,
 * so the folder is self-contained. Returns every file written, relative to root.
 *
 * @param {string} root
 * @param {string[]} entries absolute paths
 * @param {string} outDir
 * @param {{ rootDir?: string, paths?: Record<string, string[]> }} [options]
 */
export async function emitDeclarations(root, entries, outDir, options = {}) {
  const require = createRequire(join(root, 'package.json'));
  const ts = require('typescript');
  const program = ts.createProgram(entries, {
    declaration: true,
    emitDeclarationOnly: true,
    strict: true,
    skipLibCheck: true,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    rootDir: options.rootDir ?? root,
    ...(options.paths && { paths: options.paths }),
    outDir,
  });
  const written = [];
  const sourceRoot = options.rootDir ?? root;
  const result = program.emit(undefined, (file, text) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, withExplicitExtensions(text, dirname(join(sourceRoot, relative(outDir, file)))));
    written.push(relative(root, file));
  });
  const diagnostics = ts.getPreEmitDiagnostics(program).concat(result.diagnostics);
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
    throw new Error(`client declarations failed:\n${ts.formatDiagnostics(diagnostics, host)}`);
  }
  return written;
}

/**
 * ESM needs full paths: `from './client'` becomes `from './client.js'` (or
 * `./dir/index.js`), which TypeScript maps to the `.d.ts` beside it, so apps
 * on `moduleResolution: node16/nodenext` resolve the declarations too.
 */
function withExplicitExtensions(text, sourceDir) {
  return text.replace(/((?:from|import\()\s*)(['"])(\.{1,2}\/[^'"]*)\2/g, (match, prefix, quote, specifier) => {
    if (/\.(js|mjs|cjs|json)$/.test(specifier)) return match;
    const target = join(sourceDir, specifier);
    const full = existsSync(`${target}.ts`) ? `${specifier}.js` : existsSync(join(target, 'index.ts')) ? `${specifier}/index.js` : specifier;
    return `${prefix}${quote}${full}${quote}`;
  });
}

/**
 * A package's publishable manifest: its template in packages/<dir>/package.json with the
 * repository's version and license, and peer ranges on our own packages at that version.
 *
 * @param {string} root
 * @param {string} dir the folder under packages/
 */
export function packageManifest(root, dir) {
  const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const template = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
  const peers = { ...template.peerDependencies };
  for (const name of Object.keys(peers)) if (name.startsWith('@streamer/')) peers[name] = `^${rootPackage.version}`;
  if (peers.ws !== undefined && rootPackage.dependencies?.ws) peers.ws = rootPackage.dependencies.ws;
  return { ...template, version: rootPackage.version, license: rootPackage.license, ...(template.peerDependencies && { peerDependencies: peers }) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const started = Date.now();
  const outputs = await buildClient(root, { types: !process.argv.includes('--no-types') });
  for (const { outfile, bytes } of outputs) console.log(`${outfile.padEnd(44)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB`);
  console.log(`built the client in ${Date.now() - started} ms`);
}
