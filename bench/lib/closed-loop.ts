/**
 * A closed-loop load: each connection keeps `inFlight` requests outstanding
 * and sends the next one as soon as a reply comes back. After a warm-up, the
 * latency of every request sent inside the measured window is recorded (the
 * last ones are awaited, not dropped, so the tail is not cut off) and
 * throughput counts the replies that arrive inside it. The window ends when
 * its time or the request budget runs out, whichever comes first.
 */
import type { BenchSocket, ServerFrame } from './bench-socket';
import { nowMs } from './stats';

export interface ClosedLoopOptions {
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Stop sending after this many measured requests even if time is left. */
  readonly maxRequests: number;
  /** Requests outstanding per connection (1 = strict request/reply). */
  readonly inFlight?: number;
  /** Gives up on one reply after this long (counted as an error). */
  readonly replyTimeoutMs?: number;
}

export interface ClosedLoopResult {
  /** Round trips of the requests sent in the measured window, in milliseconds. */
  readonly latencies: number[];
  readonly measuredMs: number;
  readonly errors: number;
  /** Replies that arrived in the measured window, per second. */
  readonly requestsPerSecond: number;
}

/** Builds one request: its client id and the frame text. */
export type RequestFactory = (connection: number, sequence: number) => { id: string; text: string };

export async function closedLoop(
  sockets: readonly BenchSocket[],
  makeRequest: RequestFactory,
  isFinal: (frame: ServerFrame) => boolean,
  options: ClosedLoopOptions,
): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  let errors = 0;
  let repliesInWindow = 0;
  const measureFrom = nowMs() + options.warmupMs;
  let windowEnd = measureFrom + options.durationMs;
  const depth = options.inFlight ?? 1;

  const lane = async (socket: BenchSocket, connection: number, laneIndex: number): Promise<void> => {
    let sequence = laneIndex;
    while (nowMs() < windowEnd && socket.open) {
      const { id, text } = makeRequest(connection, sequence);
      sequence += depth;
      const sentAt = nowMs();
      try {
        const reply = await socket.request(id, text, isFinal, options.replyTimeoutMs ?? 15_000);
        if (reply.at >= measureFrom && reply.at <= windowEnd) repliesInWindow++;
        if (sentAt >= measureFrom) {
          latencies.push(reply.at - sentAt);
          if (latencies.length >= options.maxRequests && windowEnd > reply.at) windowEnd = reply.at;
        }
      } catch {
        if (sentAt >= measureFrom) errors++;
      }
    }
  };

  const lanes: Promise<void>[] = [];
  sockets.forEach((socket, connection) => {
    for (let laneIndex = 0; laneIndex < depth; laneIndex++) lanes.push(lane(socket, connection, laneIndex));
  });
  await Promise.all(lanes);
  const measuredMs = Math.max(1, windowEnd - measureFrom);
  return { latencies, measuredMs, errors, requestsPerSecond: (repliesInWindow / measuredMs) * 1000 };
}

export interface PacedOptions {
  /** Requests per second across all connections, sent on a fixed schedule whatever the replies do (open loop). */
  readonly ratePerSecond: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  readonly replyTimeoutMs?: number;
}

/**
 * An open-loop load: requests leave at a fixed rate, round-robin over the
 * connections, whether or not earlier replies are back, so a slow server
 * cannot slow the load down and hide its own latency. Latency is measured
 * from each request's scheduled time.
 */
export async function pacedLoad(
  sockets: readonly BenchSocket[],
  makeRequest: RequestFactory,
  isFinal: (frame: ServerFrame) => boolean,
  options: PacedOptions,
): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  const outstanding: Promise<void>[] = [];
  let errors = 0;
  let repliesInWindow = 0;
  const interval = 1000 / options.ratePerSecond;
  const began = nowMs();
  const measureFrom = began + options.warmupMs;
  const windowEnd = measureFrom + options.durationMs;
  const sequences = new Array<number>(sockets.length).fill(0);
  let sent = 0;
  let measuredSent = 0;

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = nowMs();
      while (began + sent * interval <= now) {
        const scheduledAt = began + sent * interval;
        if (scheduledAt >= windowEnd || measuredSent >= options.maxRequests) return resolve();
        const connection = sent % sockets.length;
        const socket = sockets[connection]!;
        const { id, text } = makeRequest(connection, sequences[connection]!++);
        const measured = scheduledAt >= measureFrom;
        if (measured) measuredSent++;
        sent++;
        if (!socket.open) {
          if (measured) errors++;
          continue;
        }
        outstanding.push(
          socket.request(id, text, isFinal, options.replyTimeoutMs ?? 15_000).then(
            (reply) => {
              if (reply.at >= measureFrom && reply.at <= windowEnd) repliesInWindow++;
              if (measured) latencies.push(reply.at - scheduledAt);
            },
            () => {
              if (measured) errors++;
            },
          ),
        );
      }
      setTimeout(tick, Math.max(0, began + sent * interval - nowMs()));
    };
    tick();
  });
  await Promise.all(outstanding);
  return { latencies, measuredMs: options.durationMs, errors, requestsPerSecond: (repliesInWindow / options.durationMs) * 1000 };
}
