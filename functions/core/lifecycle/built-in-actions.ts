/**
 * `ping`, `status`, `subscribe`, `unsubscribe`, `cancel`. A request is only
 * visible to the user (in the tenant) that created it: for anyone else it
 * does not exist (`NOT_FOUND`), so ids never leak across tenants.
 */
import * as z from 'zod';
import { RESULTS_BUCKET } from '../cloud-shapes';
import { uploadObjectKey } from '../large-results/object-keys';
import { StreamerError } from '../errors';
import type { Identity } from '../identity';
import type { BuiltInAction, ClientEnvelope } from '../protocol/envelope';
import type { DataReference, RequestView, ServerMessage } from '../protocol/messages';
import type { RequestRecord } from '../stores/records';
import type { StreamerDeps } from './deps';
import { followRequest } from './follow-request';
import { ownedRequest } from './owned-request';
import { sendFinalToAudience, storedResultReference } from './request-audience';

const requestIdPayload = z.object({ requestId: z.string().min(1).max(128) });
const afterSeqPayload = z.object({ afterSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() });

const uploadPayload = z.object({
  bytes: z.number().int().min(1).max(RESULTS_BUCKET.maxUploadBytes),
  contentType: z.string().min(1).max(128).regex(/^[\w.+-]+\/[\w.+-]+$/).default('application/octet-stream'),
});

function requestIdOf(envelope: ClientEnvelope): string {
  const parsed = requestIdPayload.safeParse(envelope.payload);
  if (!parsed.success) {
    throw new StreamerError('VALIDATION_ERROR', 'payload.requestId must be a non-empty string', {
      details: { issues: [{ path: 'requestId', message: 'Required non-empty string', code: 'invalid_type' }] },
    });
  }
  return parsed.data.requestId;
}

/** `subscribe`'s optional `afterSeq`: replay the progress after it. */
function afterSeqOf(envelope: ClientEnvelope): number | undefined {
  const parsed = afterSeqPayload.safeParse(envelope.payload);
  if (!parsed.success) {
    throw new StreamerError('VALIDATION_ERROR', 'payload.afterSeq must be a non-negative integer (the last progress seq you saw)', {
      details: { issues: [{ path: 'afterSeq', message: 'Expected a non-negative integer', code: 'invalid_type' }] },
    });
  }
  return parsed.data.afterSeq;
}

/** The stored state as `status` shows it; a result kept in the bucket shows as `reference` (a fresh URL). */
export function requestView(request: RequestRecord, reference?: DataReference): RequestView {
  return {
    requestId: request.request_id,
    action: request.action,
    status: request.status,
    progress: request.progress,
    ...(request.message !== undefined ? { message: request.message } : {}),
    createdAt: request.created_at,
    updatedAt: request.updated_at,
    attempts: request.attempts,
    ...(request.status === 'completed' ? (reference ?? { result: request.result ?? null }) : {}),
    ...(request.error !== undefined ? { error: request.error } : {}),
  };
}

export async function handleBuiltInAction(
  deps: StreamerDeps,
  envelope: ClientEnvelope,
  identity: Identity,
  connectionId: string,
): Promise<ServerMessage | ServerMessage[]> {
  const action = envelope.action as BuiltInAction;
  switch (action) {
    case 'ping':
      return { id: envelope.id, type: 'pong' };
    case 'status': {
      const request = await ownedRequest(deps, requestIdOf(envelope), identity, true);
      // Signed only now, after the ownership check: every status carries a URL valid from this moment.
      return { id: envelope.id, type: 'status', request: requestView(request, await storedResultReference(deps, request)) };
    }
    case 'subscribe':
      return subscribe(deps, envelope, identity, connectionId);
    case 'unsubscribe': {
      const requestId = requestIdOf(envelope);
      await ownedRequest(deps, requestId, identity);
      await deps.subscriptions.remove(requestId, connectionId);
      await deps.requests.bumpSubscriptionVersion(requestId);
      return { id: envelope.id, type: 'unsubscribed', requestId };
    }
    case 'cancel':
      return cancel(deps, envelope, identity, connectionId);
    case 'upload':
      return upload(deps, envelope, identity);
  }
}

/** A presigned PUT for exactly the announced size, under the caller's own prefix, valid for the URL lifetime. */
async function upload(deps: StreamerDeps, envelope: ClientEnvelope, identity: Identity): Promise<ServerMessage> {
  const parsed = uploadPayload.safeParse(envelope.payload);
  if (!parsed.success) {
    const tooLarge = typeof envelope.payload.bytes === 'number' && envelope.payload.bytes > RESULTS_BUCKET.maxUploadBytes;
    throw new StreamerError(tooLarge ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_ERROR', `payload.bytes must be an integer from 1 to ${RESULTS_BUCKET.maxUploadBytes}; payload.contentType a media type`, {
      details: { limitBytes: RESULTS_BUCKET.maxUploadBytes, issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message, code: issue.code })) },
    });
  }
  const uploadId = deps.newId();
  const { bytes, contentType } = parsed.data;
  const signed = await deps.objects.signPut(uploadObjectKey(identity, uploadId), bytes, contentType);
  deps.logger.info('Upload signed', { uploadId, bytes });
  return { id: envelope.id, type: 'upload', uploadId, url: signed.url, method: 'PUT', headers: { 'content-type': contentType }, bytes, expiresAt: signed.expiresAt };
}

/**
 * With `afterSeq`, the missed progress comes first and `subscribed` after it
 * (so `subscribed` marks the end of the replay), then the final message if
 * the request has ended; without, as in v1: `subscribed`, then the final.
 */
async function subscribe(deps: StreamerDeps, envelope: ClientEnvelope, identity: Identity, connectionId: string): Promise<ServerMessage[]> {
  const requestId = requestIdOf(envelope);
  const afterSeq = afterSeqOf(envelope);
  await ownedRequest(deps, requestId, identity);
  const { replay, final } = await followRequest(deps, identity, { requestId, connectionId, clientId: envelope.id, afterSeq });
  const subscribed: ServerMessage = { id: envelope.id, type: 'subscribed', requestId };
  return [...replay, subscribed, ...(final !== undefined ? [final] : [])];
}

async function cancel(deps: StreamerDeps, envelope: ClientEnvelope, identity: Identity, connectionId: string): Promise<ServerMessage | ServerMessage[]> {
  const requestId = requestIdOf(envelope);
  const request = await ownedRequest(deps, requestId, identity, true);
  const now = deps.clock.now();
  if (request.status === 'queued') {
    const error = new StreamerError('CANCELLED', 'Cancelled by the client').toWire();
    const cancelled = await deps.requests.cancelQueued(requestId, now, error);
    if (cancelled) {
      // The caller hears `cancelled` first, then the request's final message (like a running request's).
      await deps.notifier.send(connectionId, { id: envelope.id, type: 'cancelled', requestId });
      await sendFinalToAudience(deps, cancelled);
      return [];
    }
  }
  // Running (or claimed since we read it): flag it; the run sees the flag, aborts its handler and ends `cancelled`.
  if (await deps.requests.requestCancel(requestId, now)) return { id: envelope.id, type: 'cancelled', requestId };
  const latest = await ownedRequest(deps, requestId, identity, true);
  if (latest.status === 'cancelled') return { id: envelope.id, type: 'cancelled', requestId };
  throw new StreamerError('INVALID_REQUEST', `Request ${requestId} has already ended (${latest.status})`, {
    details: { requestId, status: latest.status },
  });
}
