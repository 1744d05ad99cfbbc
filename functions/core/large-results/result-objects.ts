/**
 * Results kept in the results bucket instead of a message (or an item):
 * stored as the JSON text of the data under its SHA-256, and handed out as
 * a {@link DataReference} with a URL signed at that moment.
 */
import { createHash } from 'node:crypto';
import type { DataReference, JsonValue } from '../protocol/messages';
import type { ObjectStore } from '../stores/object-store';
import { resultObjectKey } from './object-keys';

/** Where a stored result is (kept with the request in place of `result`). */
export interface StoredResultObject {
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** The JSON text of a result and its digest: what is stored and what the client checks. */
export interface EncodedResult {
  readonly body: Buffer;
  readonly sha256: string;
}

export function encodeResult(data: JsonValue): EncodedResult {
  const body = Buffer.from(JSON.stringify(data), 'utf8');
  return { body, sha256: createHash('sha256').update(body).digest('hex') };
}

/** Stores a result (by its digest: the same result is one object, and storing it again is harmless). */
export async function storeResult(objects: ObjectStore, encoded: EncodedResult): Promise<StoredResultObject> {
  const key = resultObjectKey(encoded.sha256);
  await objects.put(key, encoded.body, 'application/json');
  return { key, bytes: encoded.body.length, sha256: encoded.sha256 };
}

/** A reference to a stored result with a URL signed now. */
export async function referenceTo(objects: ObjectStore, stored: StoredResultObject): Promise<DataReference> {
  const signed = await objects.signGet(stored.key);
  return { dataUrl: signed.url, dataBytes: stored.bytes, dataSha256: stored.sha256, dataExpiresAt: signed.expiresAt };
}
