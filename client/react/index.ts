/**
 * React bindings of the Streamer client (React 18 and 19): a provider holding
 * one client, and hooks that render a request's live state.
 *
 * @example
 * import { StreamerClient } from '@streamer/client';
 * import { StreamerProvider, useRequest } from '@streamer/react';
 *
 * const client = new StreamerClient(url, { token });
 * function Report() {
 *   const { start, state, progress, message, data, cancel } = useRequest('generate_report');
 *   return <button onClick={() => start({ rows: 100 })}>{state} {Math.round(progress * 100)}%</button>;
 * }
 * root.render(<StreamerProvider client={client}><Report /></StreamerProvider>);
 */
export { StreamerProvider, useStreamerClient } from './provider';
export type { StreamerProviderProps } from './provider';
export { useRequest } from './use-request';
export type { StartOptions, UseRequestResult } from './use-request';
export { useRequestStatus } from './use-request-status';
export type { UseRequestStatusResult } from './use-request-status';
export { useConnectionState } from './use-connection-state';
export { createStreamerHooks } from './create-hooks';
export type { StreamerHooks } from './create-hooks';
export type { RequestSnapshot, RequestState } from './request-snapshot';
