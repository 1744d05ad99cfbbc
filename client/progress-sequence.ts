/**
 * One request's messages, put back in order. The server numbers progress
 * (`seq` 1, 2, 3 …) and tells on the final message how many there were
 * (`lastSeq`); a message that arrives early (after a gap: a dropped
 * connection, a replay racing live updates) is held until the missing ones
 * come, through a replay the client asks for (`subscribe` with `afterSeq`).
 * Duplicates (the same message live and replayed) are dropped by number.
 */
import type { ErrorMessage, ProgressMessage, ResultMessage } from '../functions/core/protocol/messages';

/** A message about one request that a sequence orders: progress, then one final message. */
export type RequestEvent = ProgressMessage | ResultMessage | ErrorMessage;

export class ProgressSequence {
  private last: number;
  private readonly held = new Map<number, ProgressMessage>();
  private heldFinal: ResultMessage | ErrorMessage | undefined;
  private lastProgress = -1;
  private lastMessage: string | undefined;
  private ended = false;

  /**
   * @param emit - receives the events in order, each once; progress never with a lower fraction than before
   * @param afterSeq - the last `seq` already seen (0: none)
   */
  constructor(private readonly emit: (event: RequestEvent) => void, afterSeq = 0) {
    this.last = afterSeq;
  }

  /** The last `seq` delivered: what a replay should start after. */
  get afterSeq(): number {
    return this.last;
  }

  /**
   * Takes one message. Returns true when it revealed a new gap (messages
   * before it are missing): the caller asks the server for a replay and
   * calls {@link settle} when the replay is over.
   */
  offer(event: RequestEvent): boolean {
    if (this.ended) return false;
    if (event.type !== 'progress') {
      const lastSeq = typeof event.lastSeq === 'number' ? event.lastSeq : 0;
      if (lastSeq <= this.last) {
        this.end(event);
        return false;
      }
      const newGap = !this.waiting;
      this.heldFinal ??= event;
      return newGap;
    }
    const seq = event.seq;
    if (typeof seq !== 'number' || !Number.isInteger(seq)) {
      // A server that does not number progress: drop what looks repeated, as v1 clients do.
      if (isNewProgress(event, this.lastProgress, this.lastMessage)) this.deliver(event);
      return false;
    }
    if (seq <= this.last || this.held.has(seq)) return false;
    if (seq === this.last + 1) {
      this.last = seq;
      this.deliver(event);
      this.drain();
      return false;
    }
    const newGap = !this.waiting;
    this.held.set(seq, event);
    return newGap;
  }

  /** A replay ended: what is still missing will not come (the log keeps only the latest entries); deliver what is held. */
  settle(): void {
    for (const seq of [...this.held.keys()].sort((a, b) => a - b)) {
      this.last = seq;
      this.deliver(this.held.get(seq)!);
    }
    this.held.clear();
    if (this.heldFinal !== undefined) this.end(this.heldFinal);
  }

  /** Messages are held, waiting for missing ones. */
  get waiting(): boolean {
    return this.held.size > 0 || this.heldFinal !== undefined;
  }

  private drain(): void {
    for (let next = this.held.get(this.last + 1); next !== undefined; next = this.held.get(this.last + 1)) {
      this.held.delete(this.last + 1);
      this.last += 1;
      this.deliver(next);
    }
    if (this.heldFinal !== undefined && this.held.size === 0 && (this.heldFinal.lastSeq ?? 0) <= this.last) this.end(this.heldFinal);
  }

  private deliver(event: ProgressMessage): void {
    // A retry starts its progress over: the caller never sees it go backwards.
    if (typeof event.progress !== 'number' || Number.isNaN(event.progress) || event.progress < this.lastProgress) return;
    this.lastProgress = event.progress;
    this.lastMessage = event.message;
    this.emit(event);
  }

  private end(event: ResultMessage | ErrorMessage): void {
    this.ended = true;
    this.heldFinal = undefined;
    this.held.clear();
    this.emit(event);
  }
}

/**
 * Whether an unnumbered progress update is new: the protocol never lowers
 * progress, so a lower fraction, or the same fraction with the same message,
 * is a duplicate (the same update reaching us as originator and as
 * subscriber, or again after a resubscribe).
 */
export function isNewProgress(event: ProgressMessage, lastProgress: number, lastMessage: string | undefined): boolean {
  if (typeof event.progress !== 'number' || Number.isNaN(event.progress)) return false;
  if (event.progress < lastProgress) return false;
  return !(event.progress === lastProgress && event.message === lastMessage);
}
