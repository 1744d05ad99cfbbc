/**
 * `$connect` and `$disconnect`: verify the caller (the authorizer, before
 * API Gateway accepts the handshake), remember the connection with its
 * identity, and forget it (and its subscriptions) when it closes.
 */
import { extractToken, type HandshakeCredentials } from '../auth/extract-token';
import { checkIdentity } from '../auth/token-claims';
import { epochSeconds } from '../clock';
import { toStreamerError } from '../errors';
import type { Identity } from '../identity';
import { tenantUserKey } from '../identity-key';
import type { StreamerDeps } from './deps';
import { METRICS } from '../metric-names';

export type AuthorizeOutcome =
  | { readonly allowed: true; readonly identity: Identity }
  | { readonly allowed: false; readonly statusCode: 401 | 500; readonly reason: string };

/**
 * Who the handshake's token says the caller is: the token found where the
 * protocol allows it (query `token`, query `Authorization`, the header),
 * verified, and its identity within the limits the stores can hold. A
 * refused token is a 401 (the caller's fault); a key source that cannot be
 * read (a JWKS outage, the parameter store) is a 500 (ours).
 */
export async function authorizeConnection(deps: Pick<StreamerDeps, 'verifier' | 'clock'>, credentials: HandshakeCredentials): Promise<AuthorizeOutcome> {
  try {
    const identity = await deps.verifier.verify(extractToken(credentials), deps.clock.now());
    // Checked again here: whatever verifier is composed, an identity the connections
    // table cannot hold (a 10 KB id) is the caller's fault, a 401, never a 500.
    checkIdentity(identity);
    return { allowed: true, identity };
  } catch (error) {
    const failure = toStreamerError(error);
    return { allowed: false, statusCode: failure.code === 'UNAUTHORIZED' ? 401 : 500, reason: failure.message };
  }
}

export interface OpenConnectionInput {
  readonly connectionId: string;
  /** The identity the authorizer verified (`requestContext.authorizer`). */
  readonly identity: Identity;
  readonly sourceIp?: string;
}

/** Stores the connection record: broadcasts, `listByUser` and the pruning of gone connections read it. */
export async function openConnection(deps: StreamerDeps, input: OpenConnectionInput): Promise<void> {
  const { identity } = input;
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
}

/** Removes the connection and its subscriptions. Requests it started keep running; their results stay readable. */
export async function closeConnection(deps: StreamerDeps, connectionId: string): Promise<void> {
  await Promise.all([deps.connections.delete(connectionId), deps.subscriptions.removeAllFor(connectionId)]);
  deps.metrics.add(METRICS.connectionsClosed, 1, 'Count');
}
