/**
 * The identity as it travels from the `$connect` authorizer to every later
 * route of the connection. API Gateway copies the context a Lambda REQUEST
 * authorizer returns (plus its `principalId`) into
 * `requestContext.authorizer` of the `$connect`, `$default` and
 * `$disconnect` events, so the router knows the caller without reading the
 * connection record. The context may hold only string, number and boolean
 * values (API Gateway refuses the whole answer otherwise, and hands numbers
 * and booleans on as strings), so the permissions travel as a JSON string.
 */
import type { Identity } from '../identity';
import { checkIdentity } from './token-claims';

/** The context the authorizer returns: three strings, well within API Gateway's limits. (A type, so that it fits a string-keyed map.) */
export type AuthorizerContext = {
  readonly tenantId: string;
  readonly userId: string;
  /** A JSON array of strings: API Gateway allows no arrays in a context. */
  readonly permissions: string;
};

/**
 * The context that carries `identity`.
 *
 * @example
 * authorizerContextFor({ userId: 'alice', tenantId: 'acme', permissions: ['reports:read'] });
 * // { tenantId: 'acme', userId: 'alice', permissions: '["reports:read"]' }
 */
export function authorizerContextFor(identity: Identity): AuthorizerContext {
  return { tenantId: identity.tenantId, userId: identity.userId, permissions: JSON.stringify(identity.permissions) };
}

function permissionsOf(text: unknown): string[] | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((entry) => typeof entry === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The identity in an event's `requestContext.authorizer`, or `undefined`
 * when there is none (a connection opened before the `$connect` route had
 * the authorizer) or it is not one {@link authorizerContextFor} wrote: the
 * caller then reads the connection record instead. The identity passes the
 * same limits a token's claims do (`checkIdentity`).
 *
 * @example
 * identityFromAuthorizerContext({ tenantId: 'acme', userId: 'alice', permissions: '[]', principalId: 'alice' });
 * // { userId: 'alice', tenantId: 'acme', permissions: [] }
 */
export function identityFromAuthorizerContext(context: unknown): Identity | undefined {
  if (typeof context !== 'object' || context === null) return undefined;
  const { tenantId, userId, permissions } = context as Partial<Record<keyof AuthorizerContext, unknown>>;
  const list = permissionsOf(permissions);
  if (typeof tenantId !== 'string' || typeof userId !== 'string' || list === undefined) return undefined;
  const identity: Identity = { userId, tenantId, permissions: list };
  try {
    checkIdentity(identity);
  } catch {
    return undefined;
  }
  return identity;
}
