/**
 * Section 8: fairness between connections. A quiet connection's ping
 * latency while another connection floods the gateway with frames (the
 * finding of the hardening issue: one connection's burst of 5,000 frames
 * raised another client's ping p50 from 6 ms to 1,005 ms). The flood runs at
 * the default rate limits, so most of it is refused as `RATE_LIMITED`, as in
 * the finding; the figure is the quiet client's p50 and p99 during it, next
 * to the same client's with nothing else running.
 */
import type { BenchContext } from '../lib/context';
import { BenchSocket } from '../lib/bench-socket';
import { ms, type SectionResult } from '../lib/report';
import { runtimeOptions } from '../lib/context';
import { startBenchRuntime } from '../lib/runtime';
import { summarise, type LatencySummary } from '../lib/stats';

/**
 * The quiet client pings every 40 ms (25/s), half its own connection's default limit (50/s,
 * burst 100): a client that pinged back to back would measure its own `RATE_LIMITED` replies,
 * not the other connection's flood. Any reply with the ping's id ends the wait; one that is not
 * a `pong` is counted and shown.
 */
const PING_INTERVAL_MS = 40;

interface Pings extends LatencySummary {
  readonly notPong: number;
}

async function pings(socket: BenchSocket, prefix: string, count: number): Promise<Pings> {
  const samples: number[] = [];
  let notPong = 0;
  for (let i = 0; i < count; i += 1) {
    const id = `${prefix}-${i}`;
    const started = performance.now();
    const reply = await socket.request(id, JSON.stringify({ id, action: 'ping' }), () => true, 30_000);
    samples.push(performance.now() - started);
    if (reply.message.type !== 'pong') notPong += 1;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + PING_INTERVAL_MS - performance.now())));
  }
  return { ...summarise(samples), notPong };
}

export async function measureFairness(context: BenchContext): Promise<SectionResult> {
  const flood = context.quick ? 2000 : 5000;
  const samples = context.quick ? 30 : 100;
  // The default rate limits (the bench's runtime raises them): the flood is mostly refused, as in the finding.
  const runtime = await startBenchRuntime(runtimeOptions(context, {}));
  try {
    const quiet = await BenchSocket.open(runtime.urlFor('fair-quiet'));
    const noisy = await BenchSocket.open(runtime.urlFor('fair-noisy'));
    const alone = await pings(quiet, 'alone', samples);
    for (let i = 0; i < flood; i += 1) noisy.send(JSON.stringify({ id: `flood-${i}`, action: 'ping' }));
    const during = await pings(quiet, 'during', samples);
    context.log(`  quiet client's ping: alone p50 ${ms(alone.p50)} ms, during a ${flood}-frame flood p50 ${ms(during.p50)} p99 ${ms(during.p99)} ms`);
    await Promise.all([quiet.close(), noisy.close()]);
    return {
      figures: [
        {
          section: '8',
          name: `another connection's ping during a ${flood}-frame flood (p50 / p99)`,
          value: `${ms(during.p50)} / ${ms(during.p99)} ms`,
          note: `alone: ${ms(alone.p50)} / ${ms(alone.p99)} ms; one ping every ${PING_INTERVAL_MS} ms${during.notPong + alone.notPong > 0 ? `; ${during.notPong + alone.notPong} replies were not a pong` : ''}`,
          data: { alone, during, flood },
        },
      ],
      details: { alone, during, flood },
    };
  } finally {
    await runtime.stop();
  }
}
