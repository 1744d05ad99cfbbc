/** One queued (async) request followed from the client's side: when its ack, first progress and final message arrived. */
import type { BenchSocket } from './bench-socket';
import { nowMs } from './stats';

export interface JobTimeline {
  readonly id: string;
  readonly sentAt: number;
  readonly ackAt?: number;
  readonly firstProgressAt?: number;
  readonly finalAt?: number;
  readonly finalType?: string;
  readonly progressMessages: number;
  readonly requestId?: string;
}

export interface JobOptions {
  /** Resolve once the first progress arrives instead of waiting for the final message. */
  readonly untilFirstProgress?: boolean;
  readonly timeoutMs?: number;
  /** Called for every progress message (throughput counting). */
  readonly onProgress?: (at: number) => void;
  readonly onAck?: (at: number) => void;
}

export function runJob(socket: BenchSocket, id: string, action: string, payload: object, options: JobOptions = {}): Promise<JobTimeline> {
  return new Promise((resolve) => {
    const timeline: { -readonly [K in keyof JobTimeline]: JobTimeline[K] } = { id, sentAt: nowMs(), progressMessages: 0 };
    const finish = (): void => {
      clearTimeout(timer);
      socket.off(id);
      resolve(timeline);
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 30_000);
    socket.on(id, (frame, at) => {
      switch (frame.type) {
        case 'ack':
          timeline.ackAt = at;
          timeline.requestId = frame.requestId;
          options.onAck?.(at);
          return;
        case 'progress':
          timeline.progressMessages++;
          timeline.firstProgressAt ??= at;
          options.onProgress?.(at);
          if (options.untilFirstProgress) finish();
          return;
        default:
          timeline.finalAt = at;
          timeline.finalType = frame.type === 'result' && frame.success === true ? 'result' : String(frame.type);
          finish();
      }
    });
    timeline.sentAt = nowMs();
    socket.send(JSON.stringify({ id, action, payload }));
  });
}
