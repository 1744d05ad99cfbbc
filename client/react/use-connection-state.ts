/** `useConnectionState()`: the provider's connection state, re-rendering on every change. */
import { useCallback, useSyncExternalStore } from 'react';
import type { ConnectionState } from '@streamer/client';
import { useStreamerContext } from './provider';

/**
 * The client's connection state (`idle`, `connecting`, `open`,
 * `reconnecting`, `closed`), kept current.
 *
 * @example
 * const connection = useConnectionState();
 * return <span className={connection}>{connection === 'open' ? 'live' : 'offline'}</span>;
 */
export function useConnectionState(): ConnectionState {
  const { client } = useStreamerContext();
  const subscribe = useCallback((onChange: () => void) => client.addStateListener(onChange), [client]);
  const read = useCallback(() => client.state, [client]);
  return useSyncExternalStore(subscribe, read, read);
}
