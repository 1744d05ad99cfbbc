/**
 * Accepting an async request sent with an `idempotencyKey`: the key (scoped
 * to the caller's user and tenant) is claimed with a conditional put before
 * the request is stored, so of any number of requests with one key exactly
 * one request exists, and every sender gets it: its `ack`, then the progress
 * logged so far, the live rest and its final message (the sender becomes a
 * follower, as with `subscribe`). The key lives as long as the request.
 *
 * The claim and the request are two writes. A sender that finds the key
 * claimed but its request not yet stored (the first sender is between its
 * writes, or died there) stores the request itself under the claimed id;
 * the request's own conditional put lets exactly one of them win.
 */
import { createHash } from 'node:crypto';
import { epochSeconds } from '../clock';
import { StreamerError } from '../errors';
import { idempotencyRecordKey } from '../identity-key';
import type { Identity } from '../identity';
import type { AckMessage, JsonValue, ServerMessage } from '../protocol/messages';
import { leaseShardFor } from '../stores/request-store';
import type { RequestRecord } from '../stores/records';
import type { StreamerDeps } from './deps';
import { dispatchDirectly } from './direct-dispatch';
import { followRequest } from './follow-request';

/** JSON with object keys sorted at every level, so equal payloads give one text whatever their key order. */
function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`).join(',')}}`;
}

/** What a key was first sent with: the same key with another action or payload is a client bug, refused. */
export function requestFingerprint(action: string, payload: JsonValue): string {
  return createHash('sha256').update(canonicalJson([action, payload])).digest('base64url');
}

function ack(clientId: string, requestId: string, deduplicated: boolean): AckMessage {
  return { id: clientId, type: 'ack', requestId, status: 'queued', ...(deduplicated && { deduplicated: true as const }) };
}

/** A claim can vanish between the failed put and the read (it expired): claim again, this often at most. */
const CLAIM_ATTEMPTS = 2;

/**
 * Stores `request` (a fresh `queued` record) unless the key already names a
 * request; answers with the replies for the sender.
 */
export async function acceptIdempotentRequest(
  deps: StreamerDeps,
  request: RequestRecord,
  idempotencyKey: string,
  identity: Identity,
): Promise<ServerMessage[]> {
  const fingerprint = requestFingerprint(request.action, request.payload);
  const claim = {
    idempotency_key: idempotencyRecordKey(identity.tenantId, identity.userId, idempotencyKey),
    request_id: request.request_id,
    fingerprint,
    created_at: request.created_at,
    ttl: request.ttl,
  };
  // Stores the request under the key's id, or, when another sender stored it first, follows that one.
  const storeOrFollow = async (requestId: string): Promise<ServerMessage[]> => {
    if (await deps.requests.createIfAbsent({ ...request, request_id: requestId, lease_shard: leaseShardFor(requestId) })) {
      // Only the sender that stored the request starts it: a repeat follows a request that is already
      // on its way (queued, claimed or running), and dispatching again would only buy a lost claim.
      await dispatchDirectly(deps, requestId);
      return [ack(request.client_id, requestId, false)];
    }
    deps.logger.appendKeys({ requestId });
    deps.logger.info('Request deduplicated by its idempotency key');
    const { replay, final } = await followRequest(deps, identity, {
      requestId,
      connectionId: request.connection_id,
      clientId: request.client_id,
      afterSeq: 0,
    });
    return [ack(request.client_id, requestId, true), ...replay, ...(final !== undefined ? [final] : [])];
  };
  for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
    const outcome = await deps.idempotency.claim(claim, epochSeconds(deps.clock.now()));
    // Even a fresh claim may find its request stored: a sender that found the claim stored it for us.
    if (outcome.claimed) return storeOrFollow(request.request_id);
    const existing = outcome.existing;
    if (existing === undefined) continue;
    if (existing.fingerprint !== fingerprint) {
      throw new StreamerError('INVALID_REQUEST', '"idempotencyKey" was already used with another action or payload: use a new key for a new request', {
        details: { field: 'idempotencyKey' },
      });
    }
    return storeOrFollow(existing.request_id);
  }
  throw new StreamerError('INTERNAL_ERROR', 'The idempotency key could not be claimed; send the request again', { retryable: true });
}
