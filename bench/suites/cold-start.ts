/**
 * Section 6: what a cold Lambda container pays for each function bundle:
 * its size, and the time to `require` it (module init included), measured
 * in a fresh `node` process per run and reported as the median. The first
 * invocation's client set-up (composeDeps) is not included: it needs a
 * configured environment and runs on the first event.
 *
 * Each bundle is loaded twice: as deployed by default (no source maps), and
 * with `--enable-source-maps` and its map beside it, as every function ran
 * before `streamer:sourceMaps` (off by default) existed: the difference is
 * what the setting costs each cold start.
 */
import { spawnSync } from 'node:child_process';
import { FUNCTION_NAMES } from '../../functions/core/function-declarations';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from '../lib/context';
import { count, type Figure, type SectionResult } from '../lib/report';
import { REPO_ROOT } from '../lib/runtime';
import { median } from '../lib/stats';

export const FUNCTIONS = FUNCTION_NAMES;
const BUNDLE_LIMIT_BYTES = 1_000_000;
const INIT_LIMIT_MS = 100;

const PROBE = `
const started = process.hrtime.bigint();
require(process.argv[1]);
const loaded = process.hrtime.bigint();
process.stdout.write(JSON.stringify({ requireMs: Number(loaded - started) / 1e6, heapMiB: process.memoryUsage().heapUsed / 1048576 }));
`;

function probe(bundle: string | undefined, sourceMaps = false): { requireMs: number; processMs: number; heapMiB: number } {
  const began = performance.now();
  const flags = sourceMaps ? ['--enable-source-maps'] : [];
  const args = bundle ? [...flags, '-e', PROBE, bundle] : ['-e', 'process.stdout.write(JSON.stringify({ requireMs: 0, heapMiB: 0 }))'];
  const out = spawnSync(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_REGION: 'us-east-1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const processMs = performance.now() - began;
  if (out.status !== 0) throw new Error(`cold start probe of ${bundle ?? 'node'} failed: ${out.stderr}`);
  const parsed = JSON.parse(out.stdout) as { requireMs: number; heapMiB: number };
  return { ...parsed, processMs };
}

export async function measureColdStart(context: BenchContext): Promise<SectionResult> {
  const runs = context.quick ? 3 : 7;
  const baseline = median(Array.from({ length: runs }, () => probe(undefined).processMs));
  const functions = FUNCTIONS.map((fn) => {
    const bundle = join(REPO_ROOT, 'dist', fn, 'index.js');
    const bytes = statSync(bundle).size;
    // Interleaved, so that a neighbour's load on this machine weighs on both the same.
    const hasMap = existsSync(`${bundle}.map`);
    const samples: ReturnType<typeof probe>[] = [];
    const mapped: ReturnType<typeof probe>[] = [];
    for (let run = 0; run < runs; run++) {
      samples.push(probe(bundle));
      if (hasMap) mapped.push(probe(bundle, true));
    }
    return {
      fn,
      bytes,
      mapBytes: mapped.length > 0 ? statSync(`${bundle}.map`).size : 0,
      withSourceMapsMs: mapped.length > 0 ? Math.round(median(mapped.map((s) => s.requireMs)) * 10) / 10 : undefined,
      requireMs: Math.round(median(samples.map((s) => s.requireMs)) * 10) / 10,
      processMs: Math.round(median(samples.map((s) => s.processMs)) * 10) / 10,
      heapMiB: Math.round(median(samples.map((s) => s.heapMiB)) * 10) / 10,
      samplesMs: samples.map((s) => Math.round(s.requireMs * 10) / 10),
    };
  });
  for (const f of functions) {
    const maps = f.withSourceMapsMs === undefined ? '' : `; with --enable-source-maps and its ${(f.mapBytes / 1048576).toFixed(1)} MiB map ${f.withSourceMapsMs} ms`;
    context.log(`  ${f.fn}: ${(f.bytes / 1024).toFixed(1)} KiB, require + init ${f.requireMs} ms (median of ${runs})${maps}`);
  }
  const figures: Figure[] = functions.map((f) => ({
    section: '6 Cold start',
    name: `${f.fn}: bundle size, require + init (median of ${runs})`,
    value: `${count(f.bytes / 1024, 1)} KiB, ${f.requireMs} ms`,
    target: '≤ 1 MB and ≤ 100 ms',
    met: f.bytes <= BUNDLE_LIMIT_BYTES && f.requireMs <= INIT_LIMIT_MS,
    note: f.fn === 'connect' ? `a bare \`node -e\` process takes ${baseline.toFixed(0)} ms to start and exit on this machine (Lambda's own runtime start, not counted)` : undefined,
    data: f,
  }));
  // Before/after streamer:sourceMaps: what every cold start paid while each function ran with its map.
  for (const f of functions) {
    if (f.withSourceMapsMs === undefined) continue;
    figures.push({
      section: '6 Cold start',
      name: `${f.fn}: require + init without / with source maps (median of ${runs})`,
      value: `${f.requireMs} ms / ${f.withSourceMapsMs} ms (+${Math.round((f.withSourceMapsMs - f.requireMs) * 10) / 10} ms, ${count(f.mapBytes / 1048576, 1)} MiB map)`,
      data: { fn: f.fn, withoutMs: f.requireMs, withMs: f.withSourceMapsMs, mapBytes: f.mapBytes },
    });
  }
  return { figures, details: { runs, nodeProcessBaselineMs: Math.round(baseline), functions } };
}
