/**
 * Section 3, the queued path through the local runtime: the `ack`, the time
 * from `ack` to the first progress message (stream poll → claim → worker →
 * batched progress), a 5-step job end to end, a long job's effect on a short
 * one (head of line), and how many progress messages per second reach
 * 1,000 connections that run jobs back to back.
 */
import { BenchSocket, openMany, pingBurst, warmUp } from '../lib/bench-socket';
import { runJob } from '../lib/async-job';
import { type BenchContext, runtimeOptions } from '../lib/context';
import { CpuMeter } from '../lib/process-stats';
import { count, type Figure, latencyValue, ms, type SectionResult, times, xFloor } from '../lib/report';
import { type BenchRuntime, startBenchRuntime } from '../lib/runtime';
import { type LatencySummary, nowMs, summarise } from '../lib/stats';

/** The 5-step job: `process_data` reports at each of its five stages, 10 ms apart. */
export const FIVE_STEP_JOB = { action: 'process_data', payload: { items: 5, stepDelayMs: 10 } } as const;
/** A job that reports slowly (every 100 ms): the batcher's window, not the 5-report batch, decides when it posts. */
export const SLOW_REPORTER_JOB = { action: 'generate_report', payload: { rows: 1, stepDelayMs: 100 } } as const;
/** The long job of the head-of-line check: six steps of a minute each. */
export const LONG_JOB = { action: 'generate_report', payload: { rows: 1, stepDelayMs: 60_000 } } as const;
/** The job every connection of the throughput run repeats: seven progress reports over 1.2 s. */
export const THROUGHPUT_JOB = { action: 'generate_report', payload: { rows: 1, stepDelayMs: 200 } } as const;

interface Sequential {
  readonly ack: LatencySummary;
  readonly ackToFirstProgress: LatencySummary;
  readonly endToEnd: LatencySummary;
  readonly failed: number;
}

/**
 * Jobs one after another on one connection. A random pause (0–200 ms) before
 * each puts it at a random point of the stream poller's 100 ms cycle, as an
 * independent client's request would be; back to back, each job would arrive
 * just after the poller woke for the previous job's writes, and look faster.
 */
async function sequentialJobs(socket: BenchSocket, prefix: string, jobs: number, warmup: number, job: { action: string; payload: object }, untilFirstProgress = false): Promise<Sequential> {
  const ack: number[] = [];
  const firstProgress: number[] = [];
  const endToEnd: number[] = [];
  let failed = 0;
  for (let i = 0; i < warmup + jobs; i++) {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 200));
    const timeline = await runJob(socket, `${prefix}-${i}`, job.action, job.payload, { untilFirstProgress, timeoutMs: 20_000 });
    const ok = timeline.ackAt !== undefined && timeline.firstProgressAt !== undefined && (untilFirstProgress || timeline.finalType === 'result');
    if (i < warmup) continue;
    if (!ok) {
      failed++;
      continue;
    }
    ack.push(timeline.ackAt! - timeline.sentAt);
    firstProgress.push(timeline.firstProgressAt! - timeline.ackAt!);
    if (timeline.finalAt !== undefined) endToEnd.push(timeline.finalAt - timeline.sentAt);
  }
  return { ack: summarise(ack), ackToFirstProgress: summarise(firstProgress), endToEnd: summarise(endToEnd), failed };
}

interface Throughput {
  readonly connections: number;
  readonly windowMs: number;
  readonly progressPerSecond: number;
  readonly jobsPerSecond: number;
  readonly failedJobs: number;
  readonly ackUnderLoad: LatencySummary;
  readonly ackToFirstProgressUnderLoad: LatencySummary;
  readonly endToEndUnderLoad: LatencySummary;
  readonly cpu: Record<string, { cpuMs: number; cores: number }>;
}

interface FirstRequestBurst {
  readonly connections: number;
  readonly openMs: number;
  /** Every connection's first request at once: each leases rate-limit tokens from DynamoDB (full runs only). */
  readonly cold?: LatencySummary;
  /** The same burst again, tokens in hand. */
  readonly warm: LatencySummary;
}

async function progressThroughput(context: BenchContext, runtime: BenchRuntime, sockets: readonly BenchSocket[]): Promise<Throughput> {
  const connections = sockets.length;
  // With 1,000 jobs in flight a job takes seconds: warm up past the first round before counting.
  const warmupMs = context.quick ? 5000 : 10_000;
  const windowMs = context.quick ? 5000 : 20_000;
  const measureFrom = nowMs() + warmupMs;
  const measureTo = measureFrom + windowMs;
  let progress = 0;
  let jobsDone = 0;
  let failedJobs = 0;
  const ack: number[] = [];
  const firstProgress: number[] = [];
  const endToEnd: number[] = [];
  const cpu = new CpuMeter({ runtime: runtime.pid, dynamodb: runtime.javaPid, client: process.pid });
  const cpuStart = setTimeout(() => cpu.start(), warmupMs);
  let cpuUsed: Record<string, { cpuMs: number; cores: number }> = {};
  const cpuStop = setTimeout(() => (cpuUsed = cpu.stop()), warmupMs + windowMs);
  const inWindow = (at: number): boolean => at >= measureFrom && at <= measureTo;

  const lanes = sockets.map(async (socket, connection) => {
    for (let i = 0; nowMs() < measureTo; i++) {
      const sentAt = nowMs();
      let ackAt: number | undefined;
      let sawProgress = false;
      const timeline = await runJob(socket, `t${connection}-${i}`, THROUGHPUT_JOB.action, THROUGHPUT_JOB.payload, {
        timeoutMs: 60_000,
        onAck: (at) => {
          ackAt = at;
          if (inWindow(sentAt)) ack.push(at - sentAt);
        },
        onProgress: (at) => {
          if (inWindow(at)) progress++;
          if (!sawProgress && ackAt !== undefined && inWindow(sentAt)) firstProgress.push(at - ackAt);
          sawProgress = true;
        },
      });
      if (timeline.finalAt !== undefined && inWindow(timeline.finalAt)) {
        jobsDone++;
        endToEnd.push(timeline.finalAt - sentAt);
      }
      if (inWindow(sentAt) && timeline.finalType !== 'result') failedJobs++;
    }
  });
  // Jobs still running when the window closes are waited for only briefly: they no longer count.
  await Promise.race([Promise.all(lanes), new Promise((resolve) => setTimeout(resolve, warmupMs + windowMs + (context.quick ? 2000 : 10_000)))]);
  clearTimeout(cpuStart);
  clearTimeout(cpuStop);
  return {
    connections,
    windowMs,
    progressPerSecond: Math.round((progress / windowMs) * 1000),
    jobsPerSecond: Math.round((jobsDone / windowMs) * 1000),
    failedJobs,
    ackUnderLoad: summarise(ack),
    ackToFirstProgressUnderLoad: summarise(firstProgress),
    endToEndUnderLoad: summarise(endToEnd),
    cpu: cpuUsed,
  };
}

export async function measureAsync(context: BenchContext): Promise<SectionResult> {
  const runtime = await startBenchRuntime(runtimeOptions(context));
  const quick = context.quick;
  let fiveStep: Sequential;
  let slowReporter: Sequential;
  let headOfLine: Sequential;
  let longJobStillRunning = false;
  let throughput: Throughput;
  let burst: FirstRequestBurst;
  try {
    // 1,000 connections of 100 users, opened first so every rate-limit bucket is still cold.
    const users = Array.from({ length: 100 }, (_, i) => runtime.urlFor(`load-${i}`));
    const opened = await openMany(1000, (index) => users[index % users.length]!, { parallel: 64 });
    if (opened.failures > 0) throw new Error(`${opened.failures} of 1000 connections failed (${opened.firstError})`);
    // A quick run leases gently instead of measuring the cold burst, which takes long.
    const cold = quick ? (await warmUp(opened.sockets), undefined) : summarise(await pingBurst(opened.sockets, 'cold'));
    const warm = summarise(await pingBurst(opened.sockets, 'warm'));
    burst = { connections: opened.sockets.length, openMs: Math.round(opened.elapsedMs), cold, warm };
    context.log(`  first-request burst, ${burst.connections} conn: ${cold ? `cold p50 ${ms(cold.p50)} p99 ${ms(cold.p99)} ms; again ` : ''}warm p50 ${ms(warm.p50)} p99 ${ms(warm.p99)} ms`);

    const socket = await BenchSocket.open(runtime.urlFor('async-1'));
    fiveStep = await sequentialJobs(socket, 'five', quick ? 30 : 150, 5, FIVE_STEP_JOB);
    context.log(`  5-step job: ack p50 ${ms(fiveStep.ack.p50)} p99 ${ms(fiveStep.ack.p99)}; ack→first progress p50 ${ms(fiveStep.ackToFirstProgress.p50)} p99 ${ms(fiveStep.ackToFirstProgress.p99)}; end to end p50 ${ms(fiveStep.endToEnd.p50)} p99 ${ms(fiveStep.endToEnd.p99)} ms`);
    slowReporter = await sequentialJobs(socket, 'slow', quick ? 10 : 30, 2, SLOW_REPORTER_JOB, true);
    context.log(`  slow reporter: ack→first progress p50 ${ms(slowReporter.ackToFirstProgress.p50)} p99 ${ms(slowReporter.ackToFirstProgress.p99)} ms`);

    // Head of line: the long job holds a worker for minutes while short jobs come in behind it.
    const longSocket = await BenchSocket.open(runtime.urlFor('async-1'));
    const long = await runJob(longSocket, 'long', LONG_JOB.action, LONG_JOB.payload, { untilFirstProgress: true, timeoutMs: 10_000 });
    if (long.firstProgressAt === undefined || long.requestId === undefined) throw new Error('the long job never reported progress');
    headOfLine = await sequentialJobs(socket, 'hol', quick ? 20 : 80, 2, FIVE_STEP_JOB);
    const status = await longSocket.request('long-status', JSON.stringify({ id: 'long-status', action: 'status', payload: { requestId: long.requestId } }), () => true);
    longJobStillRunning = (status.message.request as { status?: string } | undefined)?.status === 'processing';
    await longSocket.request('long-cancel', JSON.stringify({ id: 'long-cancel', action: 'cancel', payload: { requestId: long.requestId } }), () => true).catch(() => undefined);
    context.log(`  head of line (long job running: ${longJobStillRunning}): ack→first progress p50 ${ms(headOfLine.ackToFirstProgress.p50)} p99 ${ms(headOfLine.ackToFirstProgress.p99)} ms`);
    await socket.close();
    await longSocket.close();

    throughput = await progressThroughput(context, runtime, opened.sockets);
    context.log(`  throughput: ${count(throughput.progressPerSecond)} progress msg/s, ${count(throughput.jobsPerSecond)} jobs/s over ${throughput.connections} connections; ${throughput.failedJobs} failed`);
  } finally {
    // Killed, not stopped: 1,000 connections and jobs in flight would each be wound down first.
    await runtime.kill();
  }

  const floor1 = context.floor?.get('1:sequential');
  const floor1000 = context.floor?.get('1000:saturation');
  const figures: Figure[] = [
    {
      section: '3 Async',
      name: 'ack (p50 / p99)',
      value: latencyValue(fiveStep.ack),
      xFloor: xFloor(fiveStep.ack, floor1),
      target: 'p99 ≤ 20 ms (seed < 100 ms)',
      met: fiveStep.ack.p99 <= 20,
      data: { ...fiveStep.ack, job: FIVE_STEP_JOB },
    },
    {
      section: '3 Async',
      name: 'ack → first progress, 5-step job (p50 / p99)',
      value: latencyValue(fiveStep.ackToFirstProgress),
      xFloor: xFloor(fiveStep.ackToFirstProgress, floor1),
      target: 'p50 ≤ 150 ms',
      met: fiveStep.ackToFirstProgress.p50 <= 150,
      data: { ...fiveStep.ackToFirstProgress, job: FIVE_STEP_JOB },
    },
    {
      section: '3 Async',
      name: 'ack → first progress, slow reporter (p50 / p99)',
      value: latencyValue(slowReporter.ackToFirstProgress),
      xFloor: xFloor(slowReporter.ackToFirstProgress, floor1),
      target: 'p50 ≤ 150 ms',
      met: slowReporter.ackToFirstProgress.p50 <= 150,
      note: `${SLOW_REPORTER_JOB.action} ${JSON.stringify(SLOW_REPORTER_JOB.payload)}: the first report goes out at once (nothing was sent for a window), later ones every 200 ms at most`,
      data: { ...slowReporter.ackToFirstProgress, job: SLOW_REPORTER_JOB },
    },
    {
      section: '3 Async',
      name: '5-step job end to end (p50 / p99)',
      value: latencyValue(fiveStep.endToEnd),
      xFloor: xFloor(fiveStep.endToEnd, floor1),
      note: `${FIVE_STEP_JOB.action} ${JSON.stringify(FIVE_STEP_JOB.payload)}: 40 ms of handler time; request sent → final result`,
      data: { ...fiveStep.endToEnd, job: FIVE_STEP_JOB, failed: fiveStep.failed },
    },
    {
      section: '3 Async',
      name: 'head of line: short job ack → first progress (p50 / p99)',
      value: latencyValue(headOfLine.ackToFirstProgress),
      xFloor: xFloor(headOfLine.ackToFirstProgress, floor1),
      target: `≈ without the long job (${ms(fiveStep.ackToFirstProgress.p50)} ms p50)`,
      met: longJobStillRunning && headOfLine.failed === 0 && headOfLine.ackToFirstProgress.p50 <= fiveStep.ackToFirstProgress.p50 * 1.5 + 10,
      note: `while ${LONG_JOB.action} ${JSON.stringify(LONG_JOB.payload)} was running (${longJobStillRunning ? 'confirmed by status' : 'NOT confirmed'}); ratio to the run without it: ${times(headOfLine.ackToFirstProgress.p50 / fiveStep.ackToFirstProgress.p50)} p50`,
      data: { ...headOfLine.ackToFirstProgress, longJobStillRunning, failed: headOfLine.failed },
    },
    {
      section: '3 Async',
      name: `progress messages delivered, ${throughput.connections} conn`,
      value: `${count(throughput.progressPerSecond)} msg/s (${count(throughput.jobsPerSecond)} jobs/s)`,
      target: '≥ 2,000 msg/s (seed 100/s)',
      // A quick run's window is too short to reach the steady state: no verdict.
      met: context.quick ? undefined : throughput.progressPerSecond >= 2000,
      note:
        `every connection runs ${THROUGHPUT_JOB.action} ${JSON.stringify(THROUGHPUT_JOB.payload)} back to back${context.quick ? ' (quick: short of the steady state)' : ''}; ` +
        `runtime ${throughput.cpu.runtime?.cores ?? '—'} cores (${((throughput.cpu.runtime?.cpuMs ?? Number.NaN) / Math.max(1, (throughput.progressPerSecond * throughput.windowMs) / 1000)).toFixed(2)} ms of runtime CPU per progress message, job overhead included), ` +
        `DynamoDB Local ${throughput.cpu.dynamodb?.cores ?? '—'} cores busy; ${throughput.failedJobs} jobs failed`,
      data: { ...throughput },
    },
    {
      section: '3 Async',
      name: `ack under that load, ${throughput.connections} conn (p50 / p99)`,
      value: latencyValue(throughput.ackUnderLoad),
      xFloor: xFloor(throughput.ackUnderLoad, floor1000),
      data: { ...throughput.ackUnderLoad },
    },
    {
      section: '3 Async',
      name: `ack → first progress under that load (p50 / p99)`,
      value: latencyValue(throughput.ackToFirstProgressUnderLoad),
      xFloor: xFloor(throughput.ackToFirstProgressUnderLoad, floor1000),
      note: `jobs sent in the window; their end to end p50 ${ms(throughput.endToEndUnderLoad.p50)} ms for 1.2 s of handler time`,
      data: { ackToFirstProgress: throughput.ackToFirstProgressUnderLoad, endToEnd: throughput.endToEndUnderLoad },
    },
  ];
  figures.push({
    section: '3 Async',
    name: `burst of first requests (ping), ${burst.connections} new conn (p50 / p99)`,
    value: `${burst.cold ? `cold ${latencyValue(burst.cold)}; ` : ''}warm ${latencyValue(burst.warm)}`,
    xFloor: xFloor(burst.cold ?? burst.warm, floor1000),
    note: 'every connection sends its first frame at once; cold = each router call first leases rate-limit tokens from the rate-limits table, warm = the same burst again',
    data: { ...burst },
  });
  return { figures, details: { burst, fiveStep, slowReporter, headOfLine, longJobStillRunning, throughput } };
}
