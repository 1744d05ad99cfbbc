/**
 * Section 4: how many authenticated idle connections one runtime process
 * holds, what each costs in resident memory, and how fast they open. The
 * connections come from several holder processes, each from its own
 * loopback address, so neither the client's file descriptors nor its
 * ephemeral ports are the limit; the runtime's own `ulimit -n` is.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { type BenchContext, runtimeOptions } from '../lib/context';
import { CpuMeter, openFileCount, openFileLimit, residentBytes } from '../lib/process-stats';
import { count, type Figure, type SectionResult } from '../lib/report';
import { startBenchRuntime } from '../lib/runtime';

/** Descriptors the runtime needs besides its client sockets (listeners, pipes, DynamoDB and self HTTP sockets). */
const RESERVED_DESCRIPTORS = 250;
const CONNECTIONS_PER_HOLDER = 5000;
const MEMORY_TARGET_BYTES = 1.5 * 1024 ** 3;

interface HolderReport {
  readonly opened: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly firstError?: string;
}

function startHolder(): ChildProcess {
  return fork(join(__dirname, 'connection-holder.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function ask<T>(holder: ChildProcess, message: object, answerType: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`holder did not answer ${answerType} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (answer: { type?: string }): void => {
      if (answer.type !== answerType) return;
      clearTimeout(timer);
      holder.off('message', onMessage);
      resolve(answer as T);
    };
    holder.on('message', onMessage);
    holder.send(message);
  });
}

const mib = (bytes: number): number => Math.round((bytes / 1024 ** 2) * 10) / 10;

export async function measureConnections(context: BenchContext): Promise<SectionResult> {
  const wanted = context.quick ? 4000 : 20_000;
  const runtime = await startBenchRuntime(runtimeOptions(context));
  const holders: ChildProcess[] = [];
  try {
    const limit = openFileLimit(runtime.pid);
    const attempted = Math.min(wanted, limit - RESERVED_DESCRIPTORS);
    const users = Array.from({ length: 100 }, (_, i) => runtime.urlFor(`idle-${i}`));
    // Let start-up allocations settle so the delta is the connections' own.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const before = { runtime: residentBytes(runtime.pid), dynamodb: runtime.javaPid ? residentBytes(runtime.javaPid) : Number.NaN, descriptors: openFileCount(runtime.pid) };

    const holderCount = Math.ceil(attempted / CONNECTIONS_PER_HOLDER);
    const cpu = new CpuMeter({ runtime: runtime.pid, dynamodb: runtime.javaPid });
    cpu.start();
    const began = performance.now();
    const reports = await Promise.all(
      Array.from({ length: holderCount }, (_, k) => {
        const holder = startHolder();
        holders.push(holder);
        const share = Math.min(CONNECTIONS_PER_HOLDER, attempted - k * CONNECTIONS_PER_HOLDER);
        return ask<HolderReport>(
          holder,
          { type: 'open', urls: users, count: share, parallel: 32, localAddress: `127.0.0.${2 + k}`, timeoutMs: 30_000 },
          'opened',
          240_000,
        );
      }),
    );
    const openMs = performance.now() - began;
    const openCpu = cpu.stop();
    const opened = reports.reduce((sum, report) => sum + report.opened, 0);
    const failed = reports.reduce((sum, report) => sum + report.failed, 0);
    context.log(`  opened ${count(opened)} of ${count(attempted)} in ${(openMs / 1000).toFixed(1)} s (${failed} failed${failed > 0 ? `: ${reports.find((r) => r.firstError)?.firstError}` : ''})`);

    // Idle for a while, then check that every connection is still open on both sides.
    const idleMs = context.quick ? 2000 : 10_000;
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const stillOpen = (await Promise.all(holders.map((holder) => ask<{ open: number }>(holder, { type: 'count' }, 'count', 10_000)))).reduce((sum, answer) => sum + answer.open, 0);
    const after = { runtime: residentBytes(runtime.pid), dynamodb: runtime.javaPid ? residentBytes(runtime.javaPid) : Number.NaN, descriptors: openFileCount(runtime.pid) };
    const perConnection = (after.runtime - before.runtime) / Math.max(1, stillOpen);
    const perConnectionDynamo = (after.dynamodb - before.dynamodb) / Math.max(1, stillOpen);
    const connectRate = (opened / openMs) * 1000;
    context.log(`  held ${count(stillOpen)} after ${idleMs / 1000} s idle; runtime RSS ${mib(before.runtime)} → ${mib(after.runtime)} MiB; DynamoDB Local ${mib(before.dynamodb)} → ${mib(after.dynamodb)} MiB`);

    const held = {
      wanted,
      attempted,
      openFilesLimit: limit,
      opened,
      failed,
      stillOpen,
      idleMs,
      before,
      after,
      perConnectionBytes: Math.round(perConnection),
      perConnectionDynamoDbBytes: Math.round(perConnectionDynamo),
      connectRate: Math.round(connectRate),
      openMs: Math.round(openMs),
      openCpu,
    };
    const capped = attempted < wanted ? ` (asked for ${count(wanted)}; the runtime's ulimit -n of ${count(limit)} caps one process)` : '';
    const figures: Figure[] = [
      {
        section: '4 Connections',
        name: 'idle authenticated connections held',
        value: `${count(stillOpen)} of ${count(attempted)}; runtime RSS ${count(mib(after.runtime))} MiB`,
        target: '≥ 10,000 under 1.5 GB (seed 10,000+)',
        met: context.quick && stillOpen < 10_000 ? undefined : stillOpen >= 10_000 && after.runtime < MEMORY_TARGET_BYTES,
        note: `${idleMs / 1000} s idle, then counted on the client side${capped}; DynamoDB Local (the stand-in for DynamoDB) ${count(mib(after.dynamodb))} MiB besides` + (context.quick ? '; quick mode opens 4,000 only' : ''),
        data: held,
      },
      {
        section: '4 Connections',
        name: 'memory per connection (runtime RSS delta / count)',
        value: `${(perConnection / 1024).toFixed(1)} KiB`,
        note: `DynamoDB Local grows ${(perConnectionDynamo / 1024).toFixed(1)} KiB per connection record besides`,
        data: { perConnectionBytes: Math.round(perConnection), perConnectionDynamoDbBytes: Math.round(perConnectionDynamo) },
      },
      {
        section: '4 Connections',
        name: 'connect rate ($connect: verify JWT, store connection)',
        value: `${count(connectRate)} conn/s`,
        note: `${holderCount} client processes × 32 handshakes in flight; runtime ${openCpu.runtime?.cores ?? '—'} cores, DynamoDB Local ${openCpu.dynamodb?.cores ?? '—'} cores busy while opening`,
        data: { connectRate: Math.round(connectRate), openMs: Math.round(openMs), cpu: openCpu },
      },
    ];
    return { figures, details: held };
  } finally {
    // Killed, not stopped: a graceful stop would run a $disconnect for every connection first.
    await runtime.kill();
    for (const holder of holders) {
      if (holder.connected) holder.send({ type: 'close' });
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const holder of holders) if (holder.exitCode === null) holder.kill('SIGKILL');
  }
}
