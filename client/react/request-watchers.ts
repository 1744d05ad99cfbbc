/**
 * Watching requests by id, shared per client: every component watching the
 * same request shares ONE server subscription and one `status` read.
 *
 * Releasing is deferred by a tick: React StrictMode runs an effect, its
 * cleanup and the effect again at once; the second watch finds the
 * subscription still there and keeps it, so the server never sees a
 * subscribe, unsubscribe, subscribe sequence (which two router invocations
 * could apply out of order, leaving the request unwatched).
 */
import type { AnyActions, StreamerClient, Subscription } from '@streamer/client';
import { completed, ended, type RequestSnapshot, withProgress, withView } from './request-snapshot';

type Listener = (snapshot: RequestSnapshot<unknown>) => void;

interface Watched {
  snapshot: RequestSnapshot<unknown>;
  readonly listeners: Set<Listener>;
  readonly subscription: Subscription<unknown>;
  release?: ReturnType<typeof setTimeout>;
}

/** The watchers of one client. */
export class RequestWatchers {
  private readonly watched = new Map<string, Watched>();

  constructor(private readonly client: StreamerClient<AnyActions>) {}

  /**
   * Calls `listener` with the request's snapshot now and on every change;
   * returns the function that stops it (the last one out unsubscribes on the
   * server, a tick later). The request itself is never cancelled here.
   */
  watch(requestId: string, listener: Listener): () => void {
    const entry = this.watched.get(requestId) ?? this.open(requestId);
    if (entry.release !== undefined) {
      clearTimeout(entry.release);
      entry.release = undefined;
    }
    entry.listeners.add(listener);
    listener(entry.snapshot);
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size > 0 || entry.release !== undefined) return;
      entry.release = setTimeout(() => {
        if (entry.listeners.size > 0 || this.watched.get(requestId) !== entry) return;
        this.watched.delete(requestId);
        void entry.subscription.unsubscribe();
      }, 0);
    };
  }

  private open(requestId: string): Watched {
    const update = (next: (snapshot: RequestSnapshot<unknown>) => RequestSnapshot<unknown>): void => {
      const changed = next(entry.snapshot);
      if (changed === entry.snapshot) return;
      entry.snapshot = changed;
      for (const listener of [...entry.listeners]) listener(changed);
    };
    // Subscribe before reading the state: no update can fall between the two.
    const subscription = this.client.subscribe<unknown>(requestId, { onProgress: (progress) => update((s) => withProgress(s, progress)) });
    const entry: Watched = { snapshot: { state: 'loading', requestId, progress: 0 }, listeners: new Set(), subscription };
    this.watched.set(requestId, entry);
    const forget = (): void => {
      // A finished request sends nothing more: a later watch reads it afresh.
      if (this.watched.get(requestId) === entry) this.watched.delete(requestId);
    };
    subscription.result.then(
      (data) => update((s) => completed(s, data)),
      (error: unknown) => update((s) => ended(s, error)),
    ).finally(forget);
    this.client.status(requestId).then(
      (view) => update((s) => withView(s, view)),
      (error: unknown) => update((s) => ended(s, error)),
    );
    return entry;
  }
}

const byClient = new WeakMap<StreamerClient<AnyActions>, RequestWatchers>();

/** The one set of watchers of `client`, shared by every provider of it. */
export function watchersOf(client: StreamerClient<AnyActions>): RequestWatchers {
  let watchers = byClient.get(client);
  if (watchers === undefined) byClient.set(client, (watchers = new RequestWatchers(client)));
  return watchers;
}
