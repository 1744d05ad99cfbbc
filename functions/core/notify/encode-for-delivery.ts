/**
 * The one gate every server message passes before it leaves, whatever way it
 * leaves (`PostToConnection` today, a route response's return value too):
 * API Gateway refuses any message over 128 KB, so nothing may reach it
 * larger, and nothing may be dropped silently either.
 *
 * The rules, in order (docs/protocol.md, "Large results"):
 * 1. A message that fits is sent as it is.
 * 2. A `result` (or a `status` reply's `result`) that does not fit is stored
 *    in the results bucket and replaced by a {@link DataReference}: a fresh
 *    presigned GET URL, the byte length and the SHA-256 of the JSON text.
 * 3. A `progress` update that does not fit loses its `metadata` and says
 *    `truncated: true`; if its text still does not fit, the text is cut to
 *    {@link TRUNCATED_PROGRESS_TEXT_CHARS} characters.
 * 4. An `error` that does not fit loses its `details` and its message is cut
 *    the same way (`details.truncated: true`).
 * 5. Anything else that still does not fit is replaced by a
 *    `PAYLOAD_TOO_LARGE` error addressed to the same `id`.
 */
import { WEBSOCKET_LIMITS } from '../aws-limits';
import { StreamerError } from '../errors';
import type { Logger } from '../observability';
import type { DataReference, JsonValue, ServerMessage } from '../protocol/messages';
import type { ObjectStore } from '../stores/object-store';
import { encodeResult, referenceTo, storeResult } from '../large-results/result-objects';
import { TRUNCATED_TEXT_CHARS } from '../large-results/inline-budget';
import { encodeServerMessage } from './encode-message';

/** A progress text over the limit is cut to this many characters. */
export const TRUNCATED_PROGRESS_TEXT_CHARS = TRUNCATED_TEXT_CHARS;

/** What the encoder needs: the bucket to store large results in (absent: the function declares none). */
export interface DeliveryContext {
  readonly objects?: ObjectStore;
  readonly logger?: Pick<Logger, 'warn'>;
  readonly maxMessageBytes?: number;
}

/** The message's size on the wire: UTF-8 bytes of its JSON text. */
export function messageBytes(message: ServerMessage): number {
  return Buffer.byteLength(JSON.stringify(message), 'utf8');
}

/** Stores a result and references it with a fresh URL. */
async function byReference(objects: ObjectStore, data: JsonValue): Promise<DataReference> {
  return referenceTo(objects, await storeResult(objects, encodeResult(data)));
}

/**
 * The wire text of `message` after the rules above: what the notifier posts
 * and the router returns. A message that fits (nearly all) is serialised
 * once, here; only one over the limit goes through {@link encodeForDelivery}.
 */
export async function deliveryText(message: ServerMessage, context: DeliveryContext): Promise<string> {
  const text = encodeServerMessage(message);
  if (Buffer.byteLength(text, 'utf8') <= (context.maxMessageBytes ?? WEBSOCKET_LIMITS.maxMessageBytes)) return text;
  return encodeServerMessage(await encodeForDelivery(message, context));
}

export async function encodeForDelivery(message: ServerMessage, context: DeliveryContext): Promise<ServerMessage> {
  const limit = context.maxMessageBytes ?? WEBSOCKET_LIMITS.maxMessageBytes;
  const size = messageBytes(message);
  if (size <= limit) return message;
  const encoded = await shrink(message, context, limit);
  if (messageBytes(encoded) <= limit) return encoded;
  context.logger?.warn('A message over the limit could not be shrunk; the client gets PAYLOAD_TOO_LARGE instead', { type: message.type, bytes: size });
  const id = 'id' in message && typeof message.id === 'string' ? message.id : null;
  const requestId = 'requestId' in message && typeof message.requestId === 'string' ? message.requestId : undefined;
  const error = new StreamerError('PAYLOAD_TOO_LARGE', `The server's ${message.type} message is ${size} bytes, over the ${limit}-byte message limit`, {
    details: { type: message.type, sizeBytes: size, limitBytes: limit },
  }).toWire();
  return requestId === undefined ? { id, type: 'error', error } : { id, type: 'error', requestId, error };
}

async function shrink(message: ServerMessage, context: DeliveryContext, limit: number): Promise<ServerMessage> {
  switch (message.type) {
    case 'result': {
      if (!('data' in message) || !context.objects) return message;
      const { data, ...envelope } = message;
      return { ...envelope, ...(await byReference(context.objects, data)) };
    }
    case 'status': {
      const { result, ...view } = message.request;
      if (result === undefined || !context.objects) return message;
      return { ...message, request: { ...view, ...(await byReference(context.objects, result)) } };
    }
    case 'progress': {
      const { metadata: _dropped, ...rest } = message;
      const truncated = { ...rest, truncated: true as const };
      if (messageBytes(truncated) <= limit || truncated.message === undefined) return truncated;
      return { ...truncated, message: truncated.message.slice(0, TRUNCATED_PROGRESS_TEXT_CHARS) };
    }
    case 'error': {
      const { details: _dropped, ...error } = message.error;
      return { ...message, error: { ...error, message: error.message.slice(0, TRUNCATED_PROGRESS_TEXT_CHARS), details: { truncated: true } } };
    }
    default:
      return message;
  }
}
