/**
 * How large a result may be and still travel inside its message (and be
 * kept inside its request's item): the message limit less room for the
 * envelope (`id` of up to 128 characters, `requestId`, field names). The
 * item then holds at most this plus the payload (itself under the message
 * limit), well within DynamoDB's 400 KB.
 */
import { WEBSOCKET_LIMITS } from '../aws-limits';

export const ENVELOPE_RESERVE_BYTES = 4 * 1024;

export const INLINE_RESULT_MAX_BYTES = WEBSOCKET_LIMITS.maxMessageBytes - ENVELOPE_RESERVE_BYTES;
