/**
 * Makes a connection hear one request from now on: a subscription (under
 * the client id its messages will carry), the logged progress after
 * `afterSeq` it missed, and the final message if the request has ended.
 * `subscribe` uses it, and so does a repeated idempotency key.
 */
import { epochSeconds } from '../clock';
import type { Identity } from '../identity';
import { isTerminalStatus, type ServerMessage } from '../protocol/messages';
import { decodeLogEntry, PROGRESS_LOG_LIMITS } from '../progress/progress-log';
import type { StreamerDeps } from './deps';
import { ownedRequest } from './owned-request';
import { finalMessageOf, progressMessageFor } from './request-audience';

export interface Follow {
  readonly requestId: string;
  readonly connectionId: string;
  /** The id every message to this follower carries. */
  readonly clientId: string;
  /** Replay the logged progress after this `seq` (0: all of it); `undefined`: no replay. */
  readonly afterSeq: number | undefined;
}

export interface FollowReplies {
  /** Logged progress messages after `afterSeq`, oldest first. */
  readonly replay: ServerMessage[];
  /** The request's final message, when it has ended and this follower is the one to send it. */
  readonly final: ServerMessage | undefined;
}

/** The caller checked that `identity` owns the request; it is read again (strongly) after subscribing. */
export async function followRequest(deps: StreamerDeps, identity: Identity, follow: Follow): Promise<FollowReplies> {
  const now = deps.clock.now();
  await deps.subscriptions.add({
    request_id: follow.requestId,
    connection_id: follow.connectionId,
    client_id: follow.clientId,
    created_at: now,
    ttl: epochSeconds(now) + deps.settings.requestTtlSeconds,
  });
  // Tell a running request's run to re-read its audience (it reads it only when this version changes).
  await deps.requests.bumpSubscriptionVersion(follow.requestId);
  // Read after subscribing: a request that ended before the subscription existed would otherwise never
  // send this follower its final message. And the log after the request: if it has ended, every entry is in.
  const current = await ownedRequest(deps, follow.requestId, identity, true);
  const replay: ServerMessage[] = [];
  if (follow.afterSeq !== undefined) {
    for (const record of await deps.progressLog.after(follow.requestId, follow.afterSeq, PROGRESS_LOG_LIMITS.maxEntries)) {
      const update = decodeLogEntry(record.entry);
      if (update !== undefined) replay.push(progressMessageFor(follow.requestId, update, Number(record.seq))(follow.clientId));
    }
  }
  if (!isTerminalStatus(current.status)) return { replay, final: undefined };
  // Ended already (or just now): send the final message unless the run ending it got there first.
  const mine = await deps.subscriptions.claimFinalDelivery(follow.requestId, follow.connectionId);
  // A stored result gets a URL signed now, for this follower.
  return { replay, final: mine ? (await finalMessageOf(deps, current))(follow.clientId) : undefined };
}
