/**
 * Streamer client SDK: run operations of any length over a WebSocket, with
 * live progress. Works in browsers and in Node ≥ 22 as is; in Node 20 import
 * from the `node` entry, which supplies the `ws` package.
 *
 * @example
 * import { StreamerClient, StreamerError } from '@streamer/client';
 *
 * const client = new StreamerClient('ws://127.0.0.1:3001', { token });
 * const report = await client.request('generate_report', { rows: 100 }, {
 *   onProgress: (p) => console.log(`${Math.round(p.progress * 100)}%`, p.message),
 * });
 */
export { StreamerClient, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES } from './client';
export { StreamerError } from './errors';
export { fetchReferencedData, type FetchLike } from './large-results';
export type { StreamerErrorCode, ClientErrorCode, StreamerErrorOptions } from './errors';
export type { Subscription, SubscriptionEvent, SubscribeOptions } from './subscription';
export type {
  ActionMap,
  ActionSpec,
  AnyActions,
  ConnectionState,
  DisconnectInfo,
  HeartbeatOptions,
  ReconnectOptions,
  RequestOptions,
  StreamerClientOptions,
  TokenSource,
  WebSocketConstructor,
  WebSocketLike,
} from './types';
export type {
  AckMessage,
  DataReference,
  ErrorMessage,
  JsonObject,
  JsonValue,
  ProgressMessage,
  RequestStatus,
  RequestView,
  ResultMessage,
  ServerMessage,
  UploadMessage,
} from '../functions/core/protocol/messages';
export type { ErrorCode, WireError } from '../functions/core/errors';
