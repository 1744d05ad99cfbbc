/**
 * The provider: one {@link StreamerClient} for a React tree, and the shared
 * request watchers every `useRequestStatus` of that client goes through.
 */
import { createContext, createElement, useContext, useMemo, type ReactNode } from 'react';
import type { ActionMap, AnyActions, StreamerClient } from '@streamer/client';
import { watchersOf, type RequestWatchers } from './request-watchers';

/** What the provider hands down: the client and its watchers. */
export interface StreamerContextValue {
  readonly client: StreamerClient<AnyActions>;
  readonly watchers: RequestWatchers;
}

const StreamerContext = createContext<StreamerContextValue | null>(null);

/**
 * Props of {@link StreamerProvider}.
 *
 * @example
 * <StreamerProvider client={client}><App /></StreamerProvider>
 */
export interface StreamerProviderProps<A extends ActionMap<A> = AnyActions> {
  /** The one client of this tree. The application owns it: the provider never closes it. */
  readonly client: StreamerClient<A>;
  readonly children?: ReactNode;
}

/**
 * Makes `client` available to the hooks below it. Create the client once,
 * outside any component (or in a `useState` initialiser): the provider never
 * closes it, so React StrictMode's extra unmount/mount cannot break it.
 *
 * @example
 * const client = new StreamerClient<AppActions>('ws://127.0.0.1:3001', { token });
 * createRoot(root).render(<StreamerProvider client={client}><App /></StreamerProvider>);
 */
export function StreamerProvider<A extends ActionMap<A> = AnyActions>({ client, children }: StreamerProviderProps<A>): ReactNode {
  const erased = client as unknown as StreamerClient<AnyActions>;
  const value = useMemo<StreamerContextValue>(() => ({ client: erased, watchers: watchersOf(erased) }), [erased]);
  return createElement(StreamerContext.Provider, { value }, children);
}

/** The provider's value; throws a clear error outside a provider. */
export function useStreamerContext(): StreamerContextValue {
  const value = useContext(StreamerContext);
  if (value === null) throw new Error('Streamer hooks must be used inside <StreamerProvider client={…}>');
  return value;
}

/**
 * The provider's client, for calls the hooks do not cover (`status`, `subscribe`, …).
 *
 * @example
 * const client = useStreamerClient();
 * await client.cancel(requestId);
 */
export function useStreamerClient<A extends ActionMap<A> = AnyActions>(): StreamerClient<A> {
  return useStreamerContext().client as unknown as StreamerClient<A>;
}
