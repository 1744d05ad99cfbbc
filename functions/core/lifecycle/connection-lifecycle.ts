/**
 * `$connect` and `$disconnect`: verify the caller, remember the connection
 * with its identity, and forget it (and its subscriptions) when it closes.
 */
import { extractToken, type HandshakeCredentials } from '../auth/extract-token';
import { checkIdentity } from '../auth/token-claims';
import { epochSeconds } from '../clock';
import { toStreamerError } from '../errors';
import { tenantUserKey } from '../identity-key';
import type { StreamerDeps } from './deps';
import { METRICS } from '../metric-names';

export interface OpenConnectionInput extends HandshakeCredentials {
  readonly connectionId: string;
  readonly sourceIp?: string;
}

export type OpenConnectionOutcome =
  | { readonly accepted: true; readonly userId: string; readonly tenantId: string }
  | { readonly accepted: false; readonly statusCode: 401 | 500; readonly reason: string };

export async function openConnection(deps: StreamerDeps, input: OpenConnectionInput): Promise<OpenConnectionOutcome> {
  let identity;
  try {
    identity = await deps.verifier.verify(extractToken(input), deps.clock.now());
    // Checked again here, before the only store call: whatever verifier is composed, an identity
    // the connections table cannot hold (a 10 KB id) is the caller's fault, a 401, never a 500.
    checkIdentity(identity);
  } catch (error) {
    const failure = toStreamerError(error);
    // Only a refused token is the caller's fault; a JWKS outage is ours.
    return { accepted: false, statusCode: failure.code === 'UNAUTHORIZED' ? 401 : 500, reason: failure.message };
  }
  deps.logger.appendKeys({ tenantId: identity.tenantId, userId: identity.userId });
  const now = deps.clock.now();
  await deps.connections.put({
    connection_id: input.connectionId,
    user_id: identity.userId,
    tenant_id: identity.tenantId,
    tenant_user: tenantUserKey(identity.tenantId, identity.userId),
    permissions: [...identity.permissions],
    connected_at: now,
    last_ping: now,
    ...(input.sourceIp ? { source_ip: input.sourceIp } : {}),
    ttl: epochSeconds(now) + deps.settings.connectionTtlSeconds,
  });
  deps.metrics.add(METRICS.connectionsOpened, 1, 'Count');
  return { accepted: true, userId: identity.userId, tenantId: identity.tenantId };
}

/** Removes the connection and its subscriptions. Requests it started keep running; their results stay readable. */
export async function closeConnection(deps: StreamerDeps, connectionId: string): Promise<void> {
  await Promise.all([deps.connections.delete(connectionId), deps.subscriptions.removeAllFor(connectionId)]);
  deps.metrics.add(METRICS.connectionsClosed, 1, 'Count');
}
