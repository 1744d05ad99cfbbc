/**
 * Broadcast: one message to every open connection of a user, or of a
 * tenant. A handler may only reach its own caller's user or tenant, so a
 * broadcast never crosses tenants. A broadcast over the 128 KB message
 * limit is refused to the handler (`PAYLOAD_TOO_LARGE`) before anything is
 * sent: broadcasts are notices, not a way to ship data.
 */
import { WEBSOCKET_LIMITS } from '../aws-limits';
import { StreamerError } from '../errors';
import type { Identity } from '../identity';
import { messageBytes } from '../notify/encode-for-delivery';
import type { BroadcastMessage, JsonValue } from '../protocol/messages';
import type { StreamerDeps } from './deps';

export type BroadcastScope = 'user' | 'tenant';

export interface BroadcastReport {
  readonly connections: number;
  readonly delivered: number;
}

export async function broadcast(
  deps: StreamerDeps,
  identity: Pick<Identity, 'userId' | 'tenantId'>,
  scope: BroadcastScope,
  topic: string,
  data: JsonValue,
): Promise<BroadcastReport> {
  const message: BroadcastMessage = { id: null, type: 'broadcast', topic, data };
  const bytes = messageBytes(message);
  if (bytes > WEBSOCKET_LIMITS.maxMessageBytes) {
    throw new StreamerError('PAYLOAD_TOO_LARGE', `The broadcast is ${bytes} bytes, over the ${WEBSOCKET_LIMITS.maxMessageBytes}-byte message limit; send a small notice and let clients fetch the data`, {
      retryable: false,
      details: { sizeBytes: bytes, limitBytes: WEBSOCKET_LIMITS.maxMessageBytes },
    });
  }
  const connectionIds =
    scope === 'user' ? await deps.connections.listByUser(identity.tenantId, identity.userId) : await deps.connections.listByTenant(identity.tenantId);
  const outcomes = await Promise.all(
    connectionIds.map((connectionId) => deps.notifier.send(connectionId, message)),
  );
  return { connections: connectionIds.length, delivered: outcomes.filter((o) => o === 'sent').length };
}
