/**
 * Streamer's benchmark: measured figures against the targets and against the
 * machine's own floor. Run with `npm run bench` (see bench/build-and-run.mjs).
 *
 *   --quick            shorter windows and fewer connections (under 2 minutes)
 *   --only a,b         run only these sections: floor, sync, async, connections, cost, cold-start, containers, fairness, large-results
 *                      (sync and async divide by the floor, so it runs whenever they do)
 *   --profile <dir>    the runtime writes a V8 CPU profile per section into <dir>;
 *                      `node dist/bench/summarise-profile.js <dir>/*.cpuprofile` says where the time went
 *   --env KEY=VALUE    extra environment for the runtime (experiments; repeatable)
 *   --stack KEY=VALUE  stack config on top of the bench's (`streamer:` keys without the prefix, e.g.
 *                      `--stack directDispatch=false`): the deployment is rendered with it, as `pulumi config set`
 *                      would; also the cost section's mode where it has one (repeatable)
 *
 * Prints one table and writes bench/results/<date>.json (and latest.json for a full run of
 * every section with the standard settings).
 */
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import type { BenchContext } from './lib/context';
import { machineFacts, waitForQuiet } from './lib/machine';
import { type Figure, renderTable, type SectionResult, writeResults } from './lib/report';
import { BENCH_RUNTIME_ENV, BENCH_STACK_CONFIG, REPO_ROOT } from './lib/runtime';
import { measureAsync } from './suites/async';
import { measureColdStart } from './suites/cold-start';
import { measureConnections } from './suites/connections';
import { measureContainers } from './suites/containers';
import { measureCost } from './suites/cost';
import { measureFairness } from './suites/fairness';
import { measureLargeResults } from './suites/large-results';
import { measureFloor, measureSync } from './suites/sync';

const SECTIONS = ['floor', 'sync', 'async', 'connections', 'cost', 'cold-start', 'containers', 'fairness', 'large-results'] as const;
type SectionName = (typeof SECTIONS)[number];

const RUNNERS: Record<SectionName, { title: string; run: (context: BenchContext) => Promise<SectionResult>; needsQuiet: boolean }> = {
  floor: { title: '1 Floor: bare ws echo', run: measureFloor, needsQuiet: true },
  sync: { title: '2 Sync: echo through the local runtime', run: measureSync, needsQuiet: true },
  async: { title: '3 Async: ack, progress, head of line, throughput', run: measureAsync, needsQuiet: true },
  connections: { title: '4 Connections: idle connections held', run: measureConnections, needsQuiet: true },
  cost: { title: '5 Cost per request (in-process core on DynamoDB Local)', run: measureCost, needsQuiet: false },
  'cold-start': { title: '6 Cold start: bundle size and require + init', run: measureColdStart, needsQuiet: true },
  containers: { title: '7 Containers: a Lambda container\'s cold start and memory', run: measureContainers, needsQuiet: true },
  fairness: { title: '8 Fairness: a quiet connection while another floods', run: measureFairness, needsQuiet: true },
  'large-results': { title: '9 Large results: a 5 MB result by reference', run: measureLargeResults, needsQuiet: true },
};

interface Options {
  readonly quick: boolean;
  readonly only: ReadonlySet<SectionName>;
  readonly profileDir?: string;
  readonly extraEnv: Record<string, string>;
  readonly extraStack: Record<string, string>;
}

function parseArgs(argv: readonly string[]): Options {
  let quick = false;
  let only = new Set<SectionName>(SECTIONS);
  let profileDir: string | undefined;
  const extraEnv: Record<string, string> = {};
  const extraStack: Record<string, string> = {};
  const pairOf = (flag: string, arg: string, next: () => string | undefined): [string, string] => {
    const pair = arg.startsWith(`${flag}=`) ? arg.slice(flag.length + 1) : next() ?? '';
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new Error(`${flag} wants KEY=VALUE, got "${pair}"`);
    return [pair.slice(0, equals), pair.slice(equals + 1)];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const list = (arg.includes('=') ? arg.slice('--only='.length) : argv[++i] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      for (const name of list) if (!SECTIONS.includes(name as SectionName)) throw new Error(`--only: unknown section "${name}" (known: ${SECTIONS.join(', ')})`);
      only = new Set(list as SectionName[]);
      if (only.has('sync') || only.has('async')) only.add('floor');
    } else if (arg === '--profile' || arg.startsWith('--profile=')) {
      profileDir = resolve(arg.includes('=') ? arg.slice('--profile='.length) : argv[++i] ?? 'bench/results/profiles');
    } else if (arg === '--env' || arg.startsWith('--env=')) {
      const [key, value] = pairOf('--env', arg, () => argv[++i]);
      extraEnv[key] = value;
    } else if (arg === '--stack' || arg.startsWith('--stack=')) {
      const [key, value] = pairOf('--stack', arg, () => argv[++i]);
      extraStack[key] = value;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${require('node:fs').readFileSync(__filename, 'utf8').split('*/')[0]}*/\n`);
      process.exit(0);
    } else throw new Error(`Unknown argument "${arg}" (try --help)`);
  }
  return { quick, only, profileDir, extraEnv, extraStack };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const began = Date.now();
  const date = new Date().toISOString();
  const machine = machineFacts();
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const context: BenchContext = { quick: options.quick, machine, profileDir: options.profileDir, extraEnv: options.extraEnv, extraStack: options.extraStack, log };
  // Every loop is bounded; this is the backstop.
  const deadline = setTimeout(() => {
    process.stderr.write(`benchmark exceeded ${options.quick ? 5 : 20} minutes; stopping\n`);
    process.exit(2);
  }, (options.quick ? 5 : 20) * 60_000);
  deadline.unref();

  log(`Streamer benchmark (${options.quick ? 'quick' : 'full'}) on ${machine.cores} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ulimit -n ${machine.openFilesLimit}, load ${machine.loadAverageAtStart.join(' ')}`);
  const figures: Figure[] = [];
  const sections: Record<string, unknown> = {};
  for (const name of SECTIONS) {
    if (!options.only.has(name)) continue;
    const runner = RUNNERS[name];
    log(`\n${runner.title}`);
    const quiet = runner.needsQuiet ? await waitForQuiet({ maxWaitMs: options.quick ? 15_000 : 60_000, log }) : undefined;
    const sectionBegan = Date.now();
    try {
      const result = await runner.run(context);
      figures.push(...result.figures);
      sections[name] = { ...result.details, seconds: Math.round((Date.now() - sectionBegan) / 1000), otherWorkAtStartCores: quiet?.busyCores, loadAverageAfter: loadavg().map((v) => Math.round(v * 100) / 100) };
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`  FAILED: ${message}`);
      sections[name] = { error: message };
      figures.push({ section: runner.title.split(':')[0]!, name: 'section failed', value: (error as Error).message ?? String(error), data: {} });
    }
    log(`  (${Math.round((Date.now() - sectionBegan) / 1000)} s${quiet && quiet.busyCores > 0.3 ? `; other work used ${quiet.busyCores} cores at the start` : ''})`);
  }

  const durationSeconds = Math.round((Date.now() - began) / 1000);
  log(`\nStreamer benchmark, ${date.slice(0, 16).replace('T', ' ')} UTC, ${options.quick ? 'quick' : 'full'} run in ${durationSeconds} s, ${machine.cores} cores (${machine.cpuModel})\n`);
  log(renderTable(figures));
  const met = figures.filter((f) => f.met === true).length;
  const missed = figures.filter((f) => f.met === false).map((f) => `${f.section} / ${f.name}`);
  log(`\nTargets: ${met} met, ${missed.length} missed${missed.length > 0 ? `:\n  - ${missed.join('\n  - ')}` : ''}`);
  log(`Load settings: ${Object.entries({ ...BENCH_RUNTIME_ENV, ...options.extraEnv }).filter(([k]) => k.startsWith('STREAMER_')).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (Object.keys(options.extraStack).length > 0) log(`Stack config added: ${Object.entries(options.extraStack).map(([k, v]) => `${k}=${v}`).join(' ')}`);

  const written = writeResults(join(REPO_ROOT, 'bench', 'results'), {
    date,
    mode: options.quick ? 'quick' : 'full',
    standard:
      options.only.size === SECTIONS.length && !options.profileDir && Object.keys(options.extraEnv).length === 0 && Object.keys(options.extraStack).length === 0,
    durationSeconds,
    machine,
    runtimeEnvironment: { ...BENCH_RUNTIME_ENV, ...options.extraEnv },
    stackConfig: { ...BENCH_STACK_CONFIG, ...options.extraStack },
    figures: figures.map((figure) => ({ ...figure, cores: machine.cores, date })),
    sections,
  });
  log(`Wrote ${written.map((path) => path.slice(REPO_ROOT.length + 1)).join(', ')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
