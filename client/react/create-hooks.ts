/** The hooks bound once to an application's action map. */
import type { ActionMap, StreamerClient } from '@streamer/client';
import { useStreamerClient } from './provider';
import { useRequest, type UseRequestResult } from './use-request';

/**
 * The typed hooks of an application.
 *
 * @example
 * export const { useRequest } = createStreamerHooks<AppActions>();
 */
export interface StreamerHooks<A extends ActionMap<A>> {
  /** {@link useRequest} with `A`'s actions: the payload and `data` are typed by the action name. */
  useRequest<K extends keyof A & string>(action: K): UseRequestResult<A[K]['payload'], A[K]['result']>;
  /** The provider's client, typed with `A`. */
  useStreamerClient(): StreamerClient<A>;
}

/**
 * Binds the hooks to the application's action map once, so every call site
 * is typed without type arguments. `A` is the same map the client is typed
 * with; derive it from the handlers (`ActionMapOf<typeof handlers>`) so the
 * two cannot drift.
 *
 * @example
 * import type { AppActions } from '../functions/handlers';
 * export const { useRequest } = createStreamerHooks<AppActions>();
 * // in a component:
 * const report = useRequest('generate_report'); // report.start({ rows: 10 }); report.data?.summary
 */
export function createStreamerHooks<A extends ActionMap<A>>(): StreamerHooks<A> {
  return {
    useRequest: <K extends keyof A & string>(action: K) => useRequest<A, K>(action),
    useStreamerClient: () => useStreamerClient<A>(),
  };
}
