/**
 * Keys in the results bucket (`RESULTS_BUCKET` in `cloud-shapes.ts`).
 *
 * A large result is stored under its own digest: the same result sent to
 * several connections (the caller, its subscribers) is one object, and
 * storing it again is harmless. Only a URL the core signed after checking
 * ownership reaches it, so the key needs no owner in it.
 *
 * An upload is stored under its owner (tenant and user, hashed: ids may hold
 * any character) and a fresh id: a handler resolves an upload id only under
 * its own caller's prefix, so another tenant's or user's upload id points
 * at nothing.
 */
import { createHash } from 'node:crypto';
import { RESULTS_BUCKET } from '../cloud-shapes';
import { tenantUserKey } from '../identity-key';
import type { Identity } from '../identity';

export function resultObjectKey(sha256: string): string {
  return `${RESULTS_BUCKET.resultsPrefix}${sha256}.json`;
}

/** `uploads/<sha256(tenant#user)>/`: the one prefix a caller's uploads live under. */
export function uploadPrefix(owner: Pick<Identity, 'tenantId' | 'userId'>): string {
  const digest = createHash('sha256').update(tenantUserKey(owner.tenantId, owner.userId)).digest('hex');
  return `${RESULTS_BUCKET.uploadsPrefix}${digest}/`;
}

export function uploadObjectKey(owner: Pick<Identity, 'tenantId' | 'userId'>, uploadId: string): string {
  return `${uploadPrefix(owner)}${uploadId}`;
}
