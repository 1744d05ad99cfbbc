/**
 * Development tokens for the local runtime: HS256, signed with
 * `STREAMER_JWT_SECRET` or a documented development default. Production
 * stacks verify tokens with the keys in stack config, never this default.
 *
 * Whoever can mint a token is whoever the runtime trusts, so minting is
 * bounded: claims of a sane size, no wildcard permission, at most
 * {@link DEV_TOKEN_LIMITS}`.maxTtlSeconds` of life. The `/dev-token` route
 * and `npm run token` mint only while the runtime uses the development
 * secret ({@link usesDevelopmentSecret}): with a secret of your own, tokens
 * come from your own issuer.
 */
import jwt from 'jsonwebtoken';

/** The secret the local runtime uses when `STREAMER_JWT_SECRET` is unset. Development only. */
export const DEV_JWT_SECRET = 'streamer-local-development-secret';

/** Bounds on what a development token may claim. */
export const DEV_TOKEN_LIMITS = {
  /** The default lifetime, 24 h (what `npm start` prints). */
  defaultTtlSeconds: 24 * 3600,
  /** The longest lifetime, 24 h. */
  maxTtlSeconds: 24 * 3600,
  /** `sub`, `tenant_id` and each permission: at most 256 characters. */
  maxClaimChars: 256,
  maxPermissions: 20,
} as const;

/** A refused claim or lifetime; its message names the claim and the bound (a 400 on `/dev-token`). */
export class DevTokenClaimsError extends Error {
  override readonly name = 'DevTokenClaimsError';
}

/** What `/dev-token` and `npm run token` say when the runtime uses a secret of your own. */
export const CUSTOM_SECRET_MESSAGE =
  'Development tokens are off: STREAMER_JWT_SECRET is set to a secret of your own, so mint tokens with your own issuer (unset it to use the development secret).';

export interface DevTokenOptions {
  readonly sub: string;
  readonly tenant: string;
  readonly permissions?: readonly string[];
  /** Lifetime in seconds (default 24 h, at most 24 h). */
  readonly expiresInSeconds?: number;
  readonly secret?: string;
}

export function devJwtSecret(env: NodeJS.ProcessEnv = process.env): string {
  return env.STREAMER_JWT_SECRET?.trim() || DEV_JWT_SECRET;
}

/** True when `STREAMER_JWT_SECRET` is unset or the documented development default. */
export function usesDevelopmentSecret(env: NodeJS.ProcessEnv = process.env): boolean {
  return devJwtSecret(env) === DEV_JWT_SECRET;
}

/**
 * Signs a development token; throws {@link DevTokenClaimsError} for claims
 * or a lifetime outside {@link DEV_TOKEN_LIMITS}.
 *
 * @example
 * const token = mintDevToken({ sub: 'alice', tenant: 'acme', permissions: ['reports:read'], expiresInSeconds: 3600 });
 */
export function mintDevToken(options: DevTokenOptions): string {
  assertDevTokenClaims(options);
  const claims: Record<string, unknown> = { sub: options.sub, tenant_id: options.tenant };
  if (options.permissions !== undefined) claims.permissions = [...options.permissions];
  return jwt.sign(claims, options.secret ?? devJwtSecret(), {
    algorithm: 'HS256',
    expiresIn: options.expiresInSeconds ?? DEV_TOKEN_LIMITS.defaultTtlSeconds,
  });
}

/** Throws {@link DevTokenClaimsError} naming the first claim outside {@link DEV_TOKEN_LIMITS}. */
export function assertDevTokenClaims(options: Pick<DevTokenOptions, 'sub' | 'tenant' | 'permissions' | 'expiresInSeconds'>): void {
  assertClaim('sub', options.sub);
  assertClaim('tenant', options.tenant);
  const permissions = options.permissions ?? [];
  if (permissions.length > DEV_TOKEN_LIMITS.maxPermissions) {
    throw new DevTokenClaimsError(`permissions: at most ${DEV_TOKEN_LIMITS.maxPermissions} entries (got ${permissions.length})`);
  }
  for (const permission of permissions) {
    assertClaim('permission', permission);
    // A wildcard would grant whatever a handler ever asks for: name the permissions instead.
    if (permission.includes('*')) throw new DevTokenClaimsError(`permission "${permission}": wildcards (*) are not allowed`);
  }
  const ttl = options.expiresInSeconds;
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0 && ttl <= DEV_TOKEN_LIMITS.maxTtlSeconds)) {
    throw new DevTokenClaimsError(`ttl must be a whole number of seconds from 1 to ${DEV_TOKEN_LIMITS.maxTtlSeconds} (24 h)`);
  }
}

function assertClaim(name: string, value: string): void {
  if (value.length === 0) throw new DevTokenClaimsError(`${name} must not be empty`);
  if (value.length > DEV_TOKEN_LIMITS.maxClaimChars) {
    throw new DevTokenClaimsError(`${name}: at most ${DEV_TOKEN_LIMITS.maxClaimChars} characters (got ${value.length})`);
  }
  // Control characters end up in logs and tables, where they forge lines or hide text.
  if (/\p{Cc}/u.test(value)) throw new DevTokenClaimsError(`${name} must not contain control characters`);
}
