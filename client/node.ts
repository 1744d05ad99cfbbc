/**
 * The Node entry: the same client, with the `ws` package as its WebSocket
 * (Node 20 has no global one), sending messages over 32 KB in fragments
 * API Gateway accepts. Everything else is re-exported unchanged.
 *
 * @example
 * import { StreamerClient } from '@streamer/client/node';
 * const client = new StreamerClient('ws://127.0.0.1:3001', { token: process.env.STREAMER_TOKEN });
 */
import WebSocket from 'ws';
import { WEBSOCKET_LIMITS } from '../functions/core/aws-limits';
import { frameSlices } from '../functions/core/protocol/frames';
import { StreamerClient as BaseStreamerClient, MAX_MESSAGE_BYTES } from './client';
import type { ActionMap, AnyActions, StreamerClientOptions, WebSocketConstructor } from './types';

export * from './index';

type SendData = Parameters<WebSocket['send']>[0];
type SendOptions = Parameters<WebSocket['send']>[1];
type SendCallback = (error?: Error) => void;

/**
 * `ws` within API Gateway's frame limit: API Gateway closes the connection
 * with 1009 on any frame over 32 KB, but accepts a message of up to 128 KB
 * in several frames. A text message sent without options goes out as
 * fragments of at most `WEBSOCKET_LIMITS.maxFrameBytes`, all in one call so
 * no other message can interleave; anything else passes through unchanged.
 */
class ApiGatewayWebSocket extends WebSocket {
  override send(data: SendData, optionsOrCallback?: SendOptions | SendCallback, callback?: SendCallback): void {
    if (typeof data === 'string' && optionsOrCallback === undefined && callback === undefined) {
      // Sliced as UTF-8 bytes: a character cut in two is fine, the receiver validates the reassembled message.
      const slices = frameSlices(Buffer.from(data, 'utf8'), WEBSOCKET_LIMITS.maxFrameBytes);
      slices.forEach((slice, index) => super.send(slice, { binary: false, fin: index === slices.length - 1 }));
    } else if (typeof optionsOrCallback === 'object') {
      super.send(data, optionsOrCallback, callback);
    } else {
      super.send(data, optionsOrCallback);
    }
  }
}

/**
 * {@link BaseStreamerClient} with `ws` as the default WebSocket implementation.
 *
 * @example
 * const client = new StreamerClient<MyActions>('ws://127.0.0.1:3001', { token });
 * const echoed = await client.request('echo', { hello: 'world' });
 */
export class StreamerClient<A extends ActionMap<A> = AnyActions> extends BaseStreamerClient<A> {
  constructor(url: string, options: StreamerClientOptions = {}) {
    super(url, { ...options, WebSocket: options.WebSocket ?? (ApiGatewayWebSocket as unknown as WebSocketConstructor) });
  }

  /** `ws` sends fragments, so a message may be as large as API Gateway's message limit (128 KB). */
  protected override messageLimitBytes(): number {
    return MAX_MESSAGE_BYTES;
  }
}
