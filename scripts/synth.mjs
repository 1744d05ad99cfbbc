#!/usr/bin/env node
/**
 * Renders the Pulumi program into a deployment manifest (see docs/synth.md).
 *
 *   node scripts/synth.mjs [--stack <name>] [--out <file>] [--diff <other.json>] [--json]
 *
 * There is no ts-node here: the synth entry (infra/synth/main.ts, which
 * imports index.ts) is bundled with esbuild to dist/synth/index.js, keeping
 * every package external so the program and synth share one @pulumi/pulumi
 * from node_modules (its runtime state is a module singleton), then run with
 * node in its own process.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SYNTH_BUNDLE = join('dist', 'synth', 'index.js');

/** Bundles the synth command; returns the bundle's path. */
export async function bundleSynth(projectRoot = root) {
  await build({
    entryPoints: ['infra/synth/main.ts'],
    outfile: SYNTH_BUNDLE,
    absWorkingDir: projectRoot,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  return join(projectRoot, SYNTH_BUNDLE);
}

/** Bundles and runs synth with these arguments; resolves with its exit code. */
export async function runSynth(args, projectRoot = root) {
  const bundle = await bundleSynth(projectRoot);
  const { status, signal } = spawnSync(process.execPath, ['--enable-source-maps', bundle, '--root', projectRoot, ...args], { stdio: 'inherit' });
  return status ?? (signal ? 1 : 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await runSynth(process.argv.slice(2));
}
