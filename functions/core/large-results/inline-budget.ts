/**
 * How large a result may be and still travel inside its message (and be
 * kept inside its request's item): the message limit less room for the
 * envelope (`id` of up to 128 characters, `requestId`, field names). The
 * item then holds at most this plus the payload (itself under the message
 * limit), well within DynamoDB's 400 KB.
 */
import { WEBSOCKET_LIMITS } from '../aws-limits';

/** A text over the limit (a progress message, an error message) is cut to this many characters. */
export const TRUNCATED_TEXT_CHARS = 1024;

export const ENVELOPE_RESERVE_BYTES = 4 * 1024;

export const INLINE_RESULT_MAX_BYTES = WEBSOCKET_LIMITS.maxMessageBytes - ENVELOPE_RESERVE_BYTES;

/**
 * A progress text is also kept with the request (what `status` shows); a
 * text over this many UTF-8 bytes is kept cut to 1,024 characters, so a
 * chatty handler can never push the item over DynamoDB's 400 KB and fail
 * its lease renewals.
 */
export const STORED_PROGRESS_TEXT_MAX_BYTES = 4 * 1024;

/** The progress text as it is stored with the request. */
export function storableProgressText(text: string | undefined): string | undefined {
  if (text === undefined || text.length * 3 <= STORED_PROGRESS_TEXT_MAX_BYTES) return text;
  return Buffer.byteLength(text, 'utf8') <= STORED_PROGRESS_TEXT_MAX_BYTES ? text : text.slice(0, TRUNCATED_TEXT_CHARS);
}
