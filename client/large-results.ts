/**
 * Results delivered by reference (`dataUrl`, `dataBytes`, `dataSha256`):
 * fetched with the platform's `fetch` (browsers, Node ≥ 18), checked for
 * length and SHA-256 (Web Crypto, in both), and parsed, so callers receive
 * the data exactly as if it had come inline.
 */
import type { DataReference, JsonValue } from '../functions/core/protocol/messages';
import { StreamerError } from './errors';

/** The `fetch` the client uses (injectable for tests and unusual runtimes). */
export type FetchLike = (url: string, init?: { readonly method?: string; readonly body?: Uint8Array; readonly headers?: Record<string, string> }) => Promise<{
  readonly ok: boolean;
  readonly status: number;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
}>;

export function defaultFetch(): FetchLike {
  const platform = (globalThis as { fetch?: FetchLike }).fetch;
  if (platform === undefined) {
    return async () => {
      throw new StreamerError('RESULT_UNAVAILABLE', 'This platform has no fetch(): pass the `fetch` option to fetch large results', { retryable: false });
    };
  }
  return platform.bind(globalThis);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = (globalThis as { crypto?: { subtle?: { digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer> } } }).crypto?.subtle;
  if (subtle === undefined) throw new StreamerError('RESULT_INTEGRITY', 'This platform has no Web Crypto to check the result with', { retryable: false });
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Fetches, checks and parses a referenced result.
 *
 * @example
 * const data = await fetchReferencedData(message, fetch); // message.dataUrl, .dataBytes, .dataSha256
 */
export async function fetchReferencedData(reference: DataReference, fetchImpl: FetchLike): Promise<JsonValue> {
  let response: Awaited<ReturnType<FetchLike>>;
  try {
    response = await fetchImpl(reference.dataUrl);
  } catch (error) {
    if (error instanceof StreamerError) throw error;
    throw new StreamerError('RESULT_UNAVAILABLE', 'The large result could not be fetched', { cause: error, details: { dataBytes: reference.dataBytes } });
  }
  if (!response.ok) {
    const expired = Date.now() >= reference.dataExpiresAt;
    throw new StreamerError(
      'RESULT_UNAVAILABLE',
      `The large result could not be fetched (HTTP ${response.status}${expired ? ', its URL expired' : ''}); ask status() for a fresh URL while the request is kept`,
      { details: { status: response.status, expired, dataExpiresAt: reference.dataExpiresAt } },
    );
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length !== reference.dataBytes || (await sha256Hex(bytes)) !== reference.dataSha256) {
    throw new StreamerError('RESULT_INTEGRITY', `The fetched result (${bytes.length} bytes) is not the one the server announced (${reference.dataBytes} bytes, SHA-256 ${reference.dataSha256})`, {
      retryable: false,
      details: { receivedBytes: bytes.length, dataBytes: reference.dataBytes, dataSha256: reference.dataSha256 },
    });
  }
  return JSON.parse(new TextDecoder().decode(bytes)) as JsonValue;
}
