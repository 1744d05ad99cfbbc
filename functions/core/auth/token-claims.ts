/**
 * What a verified token's claims must hold before anything is stored.
 *
 * A correct signature says who issued a token, not that its claims fit:
 * a 10 KB `sub` would reach DynamoDB (and fail there, as a 500), a blank or
 * control-character id would become an identity nobody can see in a log,
 * and a token valid for centuries could never be revoked by waiting. Every
 * refusal here is `UNAUTHORIZED`, which the handshake answers with 401.
 */
import { StreamerError } from '../errors';
import type { Identity } from '../identity';

/**
 * Longest `sub` and `tenant_id`, in UTF-16 code units (JavaScript's
 * `length`). Both go escaped into DynamoDB partition keys (`by_user`,
 * rate-limit buckets), which hold at most 2048 bytes
 * (`DYNAMODB_LIMITS.maxPartitionKeyBytes`): two ids of this length stay
 * within it whatever their characters (a code unit is at most 3 bytes of
 * UTF-8, escaped or not).
 */
export const MAX_IDENTITY_CLAIM_LENGTH = 256;

/** Most entries of the `permissions` claim; a connection record carries them all. */
export const MAX_PERMISSIONS = 100;

/** Longest permission, in UTF-16 code units. */
export const MAX_PERMISSION_LENGTH = 128;

/** C0 controls, DEL and C1 controls: invisible in logs and consoles, never part of an id. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** How long a token may live, and the time to judge it at. */
export interface ClaimPolicy {
  /** Longest accepted `exp - iat` (or `exp - now` without `iat`), in seconds. */
  readonly maxLifetimeSeconds: number;
  /** Now, in epoch seconds. */
  readonly nowSeconds: number;
}

function unauthorized(message: string): StreamerError {
  return new StreamerError('UNAUTHORIZED', message);
}

/**
 * The reason a text claim (or any client-chosen id) is refused, or
 * `undefined` when it is fine: blank, too long, or with control characters.
 * The value itself is never echoed.
 */
export function textProblem(value: string, maxLength: number): string | undefined {
  if (value.trim() === '') return 'is blank';
  if (value.length > maxLength) return `is longer than ${maxLength} characters`;
  if (CONTROL_CHARACTERS.test(value)) return 'contains control characters';
  return undefined;
}

function requireIdentityText(name: 'sub' | 'tenant_id', value: unknown): string {
  if (typeof value !== 'string' || value === '') throw unauthorized(`Token has no "${name}" claim`);
  const problem = textProblem(value, MAX_IDENTITY_CLAIM_LENGTH);
  if (problem) throw unauthorized(`Token claim "${name}" ${problem}`);
  return value;
}

function permissionsOf(claim: unknown): string[] {
  if (claim === undefined) return [];
  if (!Array.isArray(claim)) throw unauthorized('Token claim "permissions" must be an array of strings');
  if (claim.length > MAX_PERMISSIONS) throw unauthorized(`Token claim "permissions" has more than ${MAX_PERMISSIONS} entries`);
  // Entries that are not strings grant nothing and are dropped, as before these limits.
  const permissions = claim.filter((p): p is string => typeof p === 'string');
  for (const permission of permissions) {
    const problem = textProblem(permission, MAX_PERMISSION_LENGTH);
    if (problem) throw unauthorized(`Token claim "permissions" has an entry that ${problem}`);
  }
  return permissions;
}

function checkLifetime(claims: Readonly<Record<string, unknown>>, policy: ClaimPolicy): void {
  const { exp, iat } = claims;
  if (typeof exp !== 'number') throw unauthorized('Token has no "exp" claim');
  if (iat !== undefined && typeof iat !== 'number') throw unauthorized('Token claim "iat" is not a number');
  // `iat` is the issuer's word: one in the future must not stretch the window, so count from now then.
  const from = iat === undefined ? policy.nowSeconds : Math.min(iat, policy.nowSeconds);
  const lifetime = exp - from;
  if (lifetime > policy.maxLifetimeSeconds) {
    throw unauthorized(`Token lifetime of ${Math.ceil(lifetime)} s exceeds the maximum of ${policy.maxLifetimeSeconds} s`);
  }
}

/**
 * Refuses an identity whose ids or permissions break the limits above. The
 * authorizer calls it too, right after the token verifies, so
 * no verifier can hand the store an identity it would choke on.
 */
export function checkIdentity(identity: Identity): void {
  requireIdentityText('sub', identity.userId);
  requireIdentityText('tenant_id', identity.tenantId);
  permissionsOf(identity.permissions);
}

/**
 * The caller's identity from a signed token's claims, or `UNAUTHORIZED`
 * naming the first rule broken: `sub` and `tenant_id` non-blank, at most
 * {@link MAX_IDENTITY_CLAIM_LENGTH} characters, no control characters;
 * `permissions` (optional) an array of at most {@link MAX_PERMISSIONS}
 * strings of at most {@link MAX_PERMISSION_LENGTH} characters, same
 * characters; `exp` present and the lifetime within the policy.
 *
 * @example
 * identityFromClaims({ sub: 'alice', tenant_id: 'acme', iat: 0, exp: 3600 }, { maxLifetimeSeconds: 86_400, nowSeconds: 10 });
 * // { userId: 'alice', tenantId: 'acme', permissions: [] }
 */
export function identityFromClaims(claims: Readonly<Record<string, unknown>>, policy: ClaimPolicy): Identity {
  const userId = requireIdentityText('sub', claims.sub);
  const tenantId = requireIdentityText('tenant_id', claims.tenant_id);
  checkLifetime(claims, policy);
  return { userId, tenantId, permissions: permissionsOf(claims.permissions) };
}
