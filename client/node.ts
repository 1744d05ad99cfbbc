/**
 * The Node entry: the same client, with the `ws` package as its WebSocket
 * (Node 20 has no global one). Everything else is re-exported unchanged.
 *
 * @example
 * import { StreamerClient } from '@streamer/client/node';
 * const client = new StreamerClient('ws://127.0.0.1:3001', { token: process.env.STREAMER_TOKEN });
 */
import WebSocket from 'ws';
import { StreamerClient as BaseStreamerClient } from './client';
import type { ActionMap, AnyActions, StreamerClientOptions, WebSocketConstructor } from './types';

export * from './index';

/**
 * {@link BaseStreamerClient} with `ws` as the default WebSocket implementation.
 *
 * @example
 * const client = new StreamerClient<MyActions>('ws://127.0.0.1:3001', { token });
 * const echoed = await client.request('echo', { hello: 'world' });
 */
export class StreamerClient<A extends ActionMap<A> = AnyActions> extends BaseStreamerClient<A> {
  constructor(url: string, options: StreamerClientOptions = {}) {
    super(url, { ...options, WebSocket: options.WebSocket ?? (WebSocket as unknown as WebSocketConstructor) });
  }
}
