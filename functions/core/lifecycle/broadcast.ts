/**
 * Broadcast: one message to every open connection of a user, or of a
 * tenant. A handler may only reach its own caller's user or tenant, so a
 * broadcast never crosses tenants.
 */
import type { Identity } from '../identity';
import type { JsonValue } from '../protocol/messages';
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
  const connectionIds =
    scope === 'user' ? await deps.connections.listByUser(identity.tenantId, identity.userId) : await deps.connections.listByTenant(identity.tenantId);
  const outcomes = await Promise.all(
    connectionIds.map((connectionId) => deps.notifier.send(connectionId, { id: null, type: 'broadcast', topic, data })),
  );
  return { connections: connectionIds.length, delivered: outcomes.filter((o) => o === 'sent').length };
}
