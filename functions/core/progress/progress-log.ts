/**
 * The progress log: every progress message of a request, numbered (`seq`
 * 1, 2, 3 … across retries and continuations) and stored so that a client
 * that missed some (a dropped connection, a page reload) gets them again
 * with `subscribe` and `afterSeq`.
 *
 * Bounded per request, in count and in bytes: the latest
 * {@link PROGRESS_LOG_LIMITS.maxEntries} messages are kept (logging one more
 * deletes the oldest), each stored in at most
 * {@link PROGRESS_LOG_LIMITS.maxEntryBytes} bytes, so a request's log never
 * holds more than 1,000 × 4 KB; an entry over that is stored without its
 * metadata, and its message cut to fit. Entries expire with the request.
 */
import type { JsonObject } from '../protocol/messages';
import type { ProgressUpdate } from './progress-batcher';

export const PROGRESS_LOG_LIMITS = {
  /** Messages kept per request: the latest ones. */
  maxEntries: 1000,
  /** Bytes of one stored entry (its JSON): most entries are far smaller and cost one write unit. */
  maxEntryBytes: 4096,
} as const;

const ELLIPSIS = '…';

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** The entry as stored: the update's JSON, within `maxBytes` (metadata dropped, then the message cut, when over). */
export function encodeLogEntry(update: ProgressUpdate, maxBytes: number = PROGRESS_LOG_LIMITS.maxEntryBytes): string {
  const full = JSON.stringify(update);
  if (byteLength(full) <= maxBytes) return full;
  const withoutMetadata: ProgressUpdate = { progress: update.progress, ...(update.message !== undefined && { message: update.message }) };
  let encoded = JSON.stringify(withoutMetadata);
  let message = update.message ?? '';
  // Shrinks by a quarter each round: a handful of rounds even for a megabyte message.
  while (byteLength(encoded) > maxBytes && message.length > 0) {
    message = message.slice(0, Math.floor(message.length * 0.75));
    encoded = JSON.stringify({ progress: update.progress, message: `${message}${ELLIPSIS}` });
  }
  return byteLength(encoded) <= maxBytes ? encoded : JSON.stringify({ progress: update.progress });
}

/** A stored entry back as an update; `undefined` for an entry that is not one (never written by this code). */
export function decodeLogEntry(entry: string): ProgressUpdate | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { progress, message, metadata } = parsed as { progress?: unknown; message?: unknown; metadata?: unknown };
  if (typeof progress !== 'number') return undefined;
  return {
    progress,
    ...(typeof message === 'string' && { message }),
    ...(metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) && { metadata: metadata as JsonObject }),
  };
}
