#!/usr/bin/env node
/**
 * Builds the React bindings and packs the installable packages (called by
 * scripts/build.mjs after build-client.mjs, or run alone once dist/client is built):
 *
 *   dist/react/index.mjs                     client/react/ as ESM; react and @streamer/client stay imports
 *   dist/react/types/…                       its .d.ts (importing '@streamer/client' by name)
 *   dist/packages/streamer-client-<v>.tgz    `npm pack` of dist/client
 *   dist/packages/streamer-react-<v>.tgz     `npm pack` of dist/react
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitDeclarations, packageManifest } from './build-client.mjs';

/** What the React bundle may import: its peers, never a copy of them (two Reacts, or two clients, break at run time). */
const REACT_PEERS = ['react', 'react/jsx-runtime', '@streamer/client'];

/**
 * @param {string} root the repository root
 * @returns {Promise<Array<{ outfile: string, bytes: number }>>} every output, relative to root
 */
export async function buildPackages(root) {
  const clientTypes = join(root, 'dist/client/types/client/index.d.ts');
  if (!existsSync(clientTypes)) throw new Error(`${relative(root, clientTypes)} is missing: build the client with its types first (scripts/build-client.mjs)`);
  const reactDir = join(root, 'dist/react');
  rmSync(reactDir, { recursive: true, force: true });
  mkdirSync(reactDir, { recursive: true });

  const bundle = await build({
    entryPoints: ['client/react/index.ts'],
    outfile: 'dist/react/index.mjs',
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    sourcemap: true,
    metafile: true,
    external: REACT_PEERS,
    logLevel: 'warning',
  });
  assertOnlyPeers(bundle.metafile);
  // Types against the client package's own declarations, as an installed app resolves them.
  await emitDeclarations(root, [join(root, 'client/react/index.ts')], join(reactDir, 'types'), {
    rootDir: join(root, 'client/react'),
    paths: { '@streamer/client': [clientTypes] },
  });
  writeFileSync(join(reactDir, 'package.json'), `${JSON.stringify(packageManifest(root, 'react'), null, 2)}\n`);
  copyFileSync(join(root, 'packages/react/README.md'), join(reactDir, 'README.md'));

  const packagesDir = join(root, 'dist/packages');
  rmSync(packagesDir, { recursive: true, force: true });
  mkdirSync(packagesDir, { recursive: true });
  const outputs = ['dist/react/index.mjs', 'dist/react/types/index.d.ts'];
  for (const dir of ['dist/client', 'dist/react']) outputs.push(pack(root, join(root, dir), packagesDir));
  return outputs.map((outfile) => ({ outfile, bytes: statSync(join(root, outfile)).size }));
}

/** `npm pack` (no scripts run, nothing fetched): returns the tarball's path relative to root. */
function pack(root, dir, destination) {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], { cwd: dir, encoding: 'utf8' });
  const [{ filename }] = JSON.parse(out);
  return relative(root, join(destination, filename));
}

function assertOnlyPeers(metafile) {
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  for (const output of Object.values(metafile.outputs)) {
    for (const { path } of output.imports ?? []) {
      if (builtins.has(path)) throw new Error(`client/react imports the Node built-in ${path}`);
      if (!REACT_PEERS.includes(path)) throw new Error(`client/react imports ${path}, which is not a peer dependency of @streamer/react`);
    }
  }
  const fromPackages = Object.keys(metafile.inputs).filter((input) => input.includes('node_modules/'));
  if (fromPackages.length > 0) throw new Error(`client/react bundled packages in: ${fromPackages.join(', ')}`);
  const fromClient = Object.keys(metafile.inputs).filter((input) => !input.startsWith('client/react/'));
  if (fromClient.length > 0) throw new Error(`client/react bundled a copy of ${fromClient.join(', ')}: import it from '@streamer/client'`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const started = Date.now();
  for (const { outfile, bytes } of await buildPackages(root)) console.log(`${outfile.padEnd(44)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB`);
  console.log(`built the packages in ${Date.now() - started} ms`);
}
