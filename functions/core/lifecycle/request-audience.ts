/**
 * Who hears about a request: the connection that sent it (with the client's
 * id) and every subscriber (with its subscribe frame's id), each once.
 */
import type { DataReference, JsonObject, ServerMessage } from '../protocol/messages';
import { referenceTo } from '../large-results/result-objects';
import type { RequestRecord } from '../stores/records';
import type { Subscriber } from '../stores/subscription-store';
import type { StreamerDeps } from './deps';

export type MessageFor = (clientId: string) => ServerMessage;

export interface AudienceMember extends Subscriber {
  /** The member holds a subscription, so its final message goes through `claimFinalDelivery`. */
  readonly subscribed: boolean;
}

export async function audienceOf(deps: StreamerDeps, request: RequestRecord, consistent = false): Promise<AudienceMember[]> {
  const subscribers = await deps.subscriptions.subscribersOf(request.request_id, consistent).catch((error: unknown) => {
    deps.logger.warn('Reading subscribers failed; only the originating connection hears this', {
      requestId: request.request_id,
      error: error instanceof Error ? error.name : String(error),
    });
    return [] as Subscriber[];
  });
  const isOrigin = (s: Subscriber): boolean => s.connectionId === request.connection_id && s.clientId === request.client_id;
  const audience: AudienceMember[] = [{ connectionId: request.connection_id, clientId: request.client_id, subscribed: subscribers.some(isOrigin) }];
  // A subscriber on the originating connection under another id (a repeated idempotency key sent
  // on the same connection, say) hears the request under its own id too.
  for (const subscriber of subscribers) {
    if (!isOrigin(subscriber)) audience.push({ ...subscriber, subscribed: true });
  }
  return audience;
}

export async function sendToAudience(deps: StreamerDeps, audience: readonly Subscriber[], messageFor: MessageFor): Promise<number> {
  const outcomes = await Promise.all(audience.map((member) => deps.notifier.send(member.connectionId, messageFor(member.clientId))));
  return outcomes.filter((outcome) => outcome === 'sent').length;
}

/** Sends a request's final message once per member: subscribers only when they win the delivery claim. */
export async function sendFinalToAudience(deps: StreamerDeps, request: RequestRecord): Promise<number> {
  const audience = await audienceOf(deps, request);
  const messageFor = await finalMessageOf(deps, request);
  const outcomes = await Promise.all(
    audience.map(async (member) => {
      if (member.subscribed && !(await deps.subscriptions.claimFinalDelivery(request.request_id, member.connectionId).catch(() => true))) {
        return 'skipped';
      }
      return deps.notifier.send(member.connectionId, messageFor(member.clientId));
    }),
  );
  return outcomes.filter((outcome) => outcome === 'sent').length;
}

/** A fresh URL for a result kept in the results bucket; `undefined` for one kept in the item. */
export async function storedResultReference(deps: StreamerDeps, request: RequestRecord): Promise<DataReference | undefined> {
  return request.status === 'completed' && request.result_object !== undefined ? referenceTo(deps.objects, request.result_object) : undefined;
}

/** The final message of a terminal request (with a fresh URL if its result is stored), for any client id. */
export async function finalMessageOf(deps: StreamerDeps, request: RequestRecord): Promise<MessageFor> {
  return finalMessageFor(request, await storedResultReference(deps, request));
}

/** The final message of a terminal request, addressed to one client id; `reference` replaces the data of a stored result. */
export function finalMessageFor(request: RequestRecord, reference?: DataReference): MessageFor {
  const lastSeq = request.progress_seq ?? 0;
  return (clientId) =>
    request.status === 'completed'
      ? reference
        ? { id: clientId, type: 'result', requestId: request.request_id, success: true, ...reference, lastSeq }
        : { id: clientId, type: 'result', requestId: request.request_id, success: true, data: request.result ?? null, lastSeq }
      : {
          id: clientId,
          type: 'error',
          requestId: request.request_id,
          error: request.error ?? { code: 'INTERNAL_ERROR', message: 'The request failed', retryable: true },
          lastSeq,
        };
}

/** A progress message; `seq` is its number in the request's progress log. */
export function progressMessageFor(requestId: string, update: { progress: number; message?: string; metadata?: JsonObject }, seq: number): MessageFor {
  return (clientId) => ({
    id: clientId,
    type: 'progress',
    requestId,
    progress: update.progress,
    ...(update.message !== undefined ? { message: update.message } : {}),
    ...(update.metadata !== undefined ? { metadata: update.metadata } : {}),
    seq,
  });
}
