/**
 * Sections 1 and 2. The floor: a bare `ws` echo server on this machine, the
 * same client and the same frames. Sync: the `echo` handler through the
 * local runtime (gateway → router function → its route response → socket).
 *
 * Both are measured the same way: at 1 connection, request after request;
 * at 100 and 1,000 connections, paced (open loop) at a fixed 500 requests/s
 * in all, about half of what the runtime sustains on two cores, so the
 * latency is that of a loaded but not saturated server; and at saturation,
 * every connection sending its next request as soon as the reply is back,
 * for the throughput.
 */
import { closeAll, openMany, warmUp, type BenchSocket } from '../lib/bench-socket';
import { closedLoop, type ClosedLoopResult, pacedLoad } from '../lib/closed-loop';
import { type BenchContext, runtimeOptions } from '../lib/context';
import { CpuMeter } from '../lib/process-stats';
import { count, type Figure, latencyValue, ms, type SectionResult, xFloor } from '../lib/report';
import { startBenchRuntime, startFloorServer } from '../lib/runtime';
import { type LatencySummary, summarise } from '../lib/stats';

/** The paced load at 100 and 1,000 connections, requests per second in all. */
export const PACED_RATE = 500;
const MAX_CONNECTIONS = 1000;

/** The frame both servers get: an `echo` request with a 64-character payload (about 100 bytes). */
const PAYLOAD = { text: 'x'.repeat(64) };
const frameFor = (connection: number, sequence: number): { id: string; text: string } => {
  const id = `c${connection}-${sequence}`;
  return { id, text: JSON.stringify({ id, action: 'echo', payload: PAYLOAD }) };
};

interface Run {
  readonly name: string;
  readonly connections: number;
  readonly mode: 'sequential' | 'paced' | 'saturation';
  readonly latency: LatencySummary;
  readonly requestsPerSecond: number;
  readonly errors: number;
  readonly cpu: Record<string, { cpuMs: number; cores: number }>;
  /** The runtime's own counters over the run (warm-up included): router thread CPU and posts per invocation. */
  readonly router?: RouterCost;
}

/** What one `$default` invocation cost the router, read from the runtime's `/_local/functions` and `/_local/gateway`. */
interface RouterCost {
  readonly invocations: number;
  /** Router containers' thread CPU per invocation, µs (10 ms ticks, so only meaningful over many invocations). */
  readonly cpuUsPerInvocation: number | undefined;
  /** `@connections` posts delivered per router invocation (route responses are not posts). */
  readonly postsPerInvocation: number;
  /** Router containers started during the run (each a cold start on these cores), and alive at its end. */
  readonly coldStarts: number;
  readonly containers: number;
}

interface RuntimeCounters {
  readonly routerInvocations: number;
  readonly routerColdStarts: number;
  readonly routerContainers: number;
  readonly routerCpuMs: number | undefined;
  readonly posts: number;
}

async function runtimeCounters(httpUrl: string): Promise<RuntimeCounters> {
  const [functions, gateway] = await Promise.all([
    fetch(`${httpUrl}/_local/functions`).then((r) => r.json() as Promise<Record<string, { invocations: number; coldStarts: number; containers: number; threadCpuMs?: number }>>),
    fetch(`${httpUrl}/_local/gateway`).then((r) => r.json() as Promise<{ postToConnection: number }>),
  ]);
  const router = Object.entries(functions).find(([name]) => name.endsWith('-router'))?.[1];
  if (!router) throw new Error('sync: the runtime reports no router function');
  return {
    routerInvocations: router.invocations,
    routerColdStarts: router.coldStarts,
    routerContainers: router.containers,
    routerCpuMs: router.threadCpuMs,
    posts: gateway.postToConnection,
  };
}

function routerCost(before: RuntimeCounters, after: RuntimeCounters): RouterCost {
  const invocations = after.routerInvocations - before.routerInvocations;
  const cpuMs = after.routerCpuMs !== undefined && before.routerCpuMs !== undefined ? after.routerCpuMs - before.routerCpuMs : undefined;
  return {
    invocations,
    cpuUsPerInvocation: cpuMs === undefined || invocations === 0 ? undefined : Math.round((cpuMs * 1000) / invocations),
    postsPerInvocation: invocations === 0 ? 0 : Math.round(((after.posts - before.posts) / invocations) * 1000) / 1000,
    coldStarts: after.routerColdStarts - before.routerColdStarts,
    containers: after.routerContainers,
  };
}

const PLAN: ReadonlyArray<{ connections: number; mode: Run['mode'] }> = [
  { connections: 1, mode: 'sequential' },
  { connections: 100, mode: 'paced' },
  { connections: 1000, mode: 'paced' },
  { connections: 100, mode: 'saturation' },
  { connections: 1000, mode: 'saturation' },
];

export function runName(connections: number, mode: Run['mode']): string {
  return mode === 'paced' ? `${connections} conn, ${PACED_RATE} req/s` : mode === 'saturation' ? `${connections} conn, saturated` : `${connections} conn`;
}

async function runPlan(
  context: BenchContext,
  label: string,
  urlFor: (index: number) => string,
  isFinal: (frame: { type?: string }) => boolean,
  pids: Record<string, number | undefined>,
  httpUrl?: string,
): Promise<Run[]> {
  const opened = await openMany(MAX_CONNECTIONS, urlFor, { parallel: 50 });
  if (opened.failures > 0) throw new Error(`${label}: ${opened.failures} of ${MAX_CONNECTIONS} connections failed (${opened.firstError})`);
  // Each connection's first request leases its rate-limit tokens: not part of the steady state measured here.
  await warmUp(opened.sockets);
  const runs: Run[] = [];
  try {
    for (const { connections, mode } of PLAN) {
      const sockets: readonly BenchSocket[] = opened.sockets.slice(0, connections);
      const warmupMs = (connections >= 1000 ? 2000 : 1000) / (context.quick ? 2 : 1);
      const durationMs = context.quick ? 1500 : mode === 'paced' ? 8000 : 6000;
      const cpu = new CpuMeter({ ...pids, client: process.pid });
      const countersBefore = httpUrl === undefined ? undefined : await runtimeCounters(httpUrl);
      cpu.start();
      const result: ClosedLoopResult =
        mode === 'paced'
          ? await pacedLoad(sockets, frameFor, isFinal, { ratePerSecond: PACED_RATE, warmupMs, durationMs, maxRequests: 100_000, replyTimeoutMs: 30_000 })
          : await closedLoop(sockets, frameFor, isFinal, { warmupMs, durationMs, maxRequests: 200_000, replyTimeoutMs: 30_000 });
      const used = cpu.stop();
      const router = countersBefore === undefined ? undefined : routerCost(countersBefore, await runtimeCounters(httpUrl!));
      const latency = summarise(result.latencies);
      runs.push({ name: runName(connections, mode), connections, mode, latency, requestsPerSecond: Math.round(result.requestsPerSecond), errors: result.errors, cpu: used, router });
      context.log(`  ${label} ${runName(connections, mode).padEnd(22)} p50 ${ms(latency.p50)} p99 ${ms(latency.p99)} p999 ${ms(latency.p999)} ms, ${count(result.requestsPerSecond)} req/s, ${result.errors} errors${router ? `; router containers ${router.containers} (${router.coldStarts} cold starts in the run)` : ''}`);
    }
  } finally {
    await closeAll(opened.sockets);
  }
  return runs;
}

const key = (run: { connections: number; mode: string }): string => `${run.connections}:${run.mode}`;

export async function measureFloor(context: BenchContext): Promise<SectionResult> {
  const server = await startFloorServer();
  let runs: Run[];
  try {
    runs = await runPlan(context, 'floor', () => server.url, () => true, { server: server.pid });
  } finally {
    await server.stop();
  }
  context.floor = new Map(runs.map((run) => [key(run), run.latency]));
  const figures: Figure[] = runs.map((run) => ({
    section: '1 Floor',
    name: `bare ws echo, ${run.name} (p50 / p99 / p999)`,
    value: `${latencyValue(run.latency, true)}${run.mode === 'saturation' ? `, ${count(run.requestsPerSecond)} req/s` : ''}`,
    note: run.connections === 1 ? 'the same client and frames against a bare `ws` echo server; every latency below is divided by the floor of the same load' : undefined,
    data: { ...run },
  }));
  return { figures, details: { runs } };
}

export async function measureSync(context: BenchContext): Promise<SectionResult> {
  const runtime = await startBenchRuntime(runtimeOptions(context));
  let runs: Run[];
  let errorReplies = 0;
  try {
    const users = Array.from({ length: 10 }, (_, i) => runtime.urlFor(`sync-${i}`));
    runs = await runPlan(
      context,
      'sync',
      (index) => users[index % users.length]!,
      (frame) => {
        if (frame.type === 'error') errorReplies++;
        return frame.type === 'result' || frame.type === 'error';
      },
      { runtime: runtime.pid, dynamodb: runtime.javaPid },
      runtime.httpUrl,
    );
  } finally {
    await runtime.stop();
  }

  const floor = context.floor;
  const figures: Figure[] = runs.map((run) => {
    const floorRun = floor?.get(key(run));
    let target: string | undefined;
    let met: boolean | undefined;
    if (run.connections === 1) {
      target = 'p99 ≤ 3× floor (seed < 50 ms)';
      met = floorRun ? run.latency.p99 <= 3 * floorRun.p99 : undefined;
    } else if (run.connections === 100 && run.mode === 'paced') {
      target = 'p99 ≤ 5 ms (seed < 50 ms)';
      met = run.latency.p99 <= 5;
    } else if (run.mode === 'paced') {
      target = 'seed < 50 ms';
      met = run.latency.p99 < 50;
    }
    return {
      section: '2 Sync',
      name: `echo round trip, ${run.name} (p50 / p99 / p999)`,
      value: latencyValue(run.latency, true),
      xFloor: xFloor(run.latency, floorRun),
      target,
      met,
      data: { ...run, floor: floorRun },
    };
  });

  const saturated = runs.filter((run) => run.mode === 'saturation').reduce((best, run) => (run.requestsPerSecond > best.requestsPerSecond ? run : best));
  const runtimeCpu = saturated.cpu.runtime;
  const cpuPerRequestMs = runtimeCpu ? (runtimeCpu.cores * 1000) / saturated.requestsPerSecond : Number.NaN;
  figures.push({
    section: '2 Sync',
    name: 'throughput at saturation',
    value: `${count(saturated.requestsPerSecond)} req/s (${saturated.name})`,
    target: 'seed ~1,000 req/s',
    met: saturated.requestsPerSecond >= 1000,
    note:
      `runtime process ${runtimeCpu?.cores ?? '—'} cores busy = ${cpuPerRequestMs.toFixed(2)} ms of runtime CPU per request; ` +
      `DynamoDB Local ${saturated.cpu.dynamodb?.cores ?? '—'} cores, client ${saturated.cpu.client?.cores ?? '—'} cores`,
    data: { requestsPerSecond: saturated.requestsPerSecond, connections: saturated.connections, cpu: saturated.cpu, cpuPerRequestMs },
  });
  const router = saturated.router;
  figures.push({
    section: '2 Sync',
    name: 'router CPU per sync echo (router containers\' thread CPU)',
    value: router?.cpuUsPerInvocation === undefined ? '—' : `${count(router.cpuUsPerInvocation)} µs (${saturated.name}, ${count(router.invocations)} invocations)`,
    target: '≤ 250 µs',
    met: router?.cpuUsPerInvocation === undefined ? undefined : router.cpuUsPerInvocation <= 250,
    note: 'user + system CPU of the router\'s worker threads over the run, per $default invocation: what predicts Lambda duration at 256 MB',
    data: { ...router },
  });
  figures.push({
    section: '2 Sync',
    name: 'PostToConnection per sync request',
    value: router === undefined ? '—' : `${router.postsPerInvocation}`,
    target: '0',
    met: router === undefined ? undefined : router.postsPerInvocation === 0,
    note: 'the reply is the $default route response; any post here is a reply that still went through the management API',
    data: { ...router },
  });
  return { figures, details: { pacedRate: PACED_RATE, runs, errorReplies } };
}
