/**
 * JWT verification with algorithms pinned by configuration: HS256 with a
 * shared secret (read from the secret store, with a rotation's previous key
 * accepted during its overlap window), or RS256/ES256 with a public key or a
 * JWKS URL. `alg: none`
 * and algorithm confusion (an HS256 token signed with the public key) are
 * refused because the accepted algorithms never come from the token.
 */
import jwt, { type JwtHeader, type JwtPayload } from 'jsonwebtoken';
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { ConfigurationError } from '../configuration-error';
import { StreamerError } from '../errors';
import type { Identity } from '../identity';
import { DEFAULTS, ENV, TOKEN_KEY_REFRESH_RANGE_SECONDS, TOKEN_LIFETIME_RANGE_SECONDS } from '../runtime-env';
import type { StoredTokenKeys } from './stored-token-keys';
import { acceptedKeys } from './token-key-set';
import { identityFromClaims } from './token-claims';

export type AsymmetricAlgorithm = 'RS256' | 'ES256';

/** Checks every key source shares: issuer, audience and the longest token lifetime. */
export interface TokenChecks {
  readonly issuer?: string;
  readonly audience?: string;
  /** Longest accepted `exp - iat` (`exp - now` without `iat`), in seconds; {@link DEFAULTS} `.maxTokenLifetimeSeconds` when absent. */
  readonly maxLifetimeSeconds?: number;
}

/** The key that verifies tokens (exactly one source) and the checks on their claims. */
export type AuthSettings = TokenChecks &
  (
    | { readonly kind: 'secret'; readonly secret: string }
    | { readonly kind: 'secretParameter'; readonly parameterName: string; readonly refreshSeconds: number }
    | { readonly kind: 'publicKey'; readonly publicKey: string; readonly algorithms: readonly AsymmetricAlgorithm[] }
    | { readonly kind: 'jwks'; readonly jwksUrl: string; readonly algorithms: readonly AsymmetricAlgorithm[] }
  );

type Env = Readonly<Record<string, string | undefined>>;

function asymmetricAlgorithms(env: Env): AsymmetricAlgorithm[] {
  const raw = env[ENV.jwtAlgorithms]?.trim();
  if (!raw) return ['RS256', 'ES256'];
  const list = raw.split(',').map((a) => a.trim());
  for (const alg of list) {
    if (alg !== 'RS256' && alg !== 'ES256') {
      throw new ConfigurationError(`${ENV.jwtAlgorithms} accepts RS256 and ES256, got "${alg}"`);
    }
  }
  return list as AsymmetricAlgorithm[];
}

function maxLifetimeSeconds(env: Env): number {
  const raw = env[ENV.jwtMaxLifetimeSeconds]?.trim();
  if (!raw) return DEFAULTS.maxTokenLifetimeSeconds;
  const value = Number(raw);
  const { min, max } = TOKEN_LIFETIME_RANGE_SECONDS;
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigurationError(`${ENV.jwtMaxLifetimeSeconds} must be an integer in [${min}, ${max}], got "${raw}"`);
  }
  return value;
}

/** How often the stored key set is re-read at most, in seconds. */
function refreshSeconds(env: Env): number {
  const raw = env[ENV.tokenKeyRefreshSeconds]?.trim();
  if (!raw) return DEFAULTS.tokenKeyRefreshSeconds;
  const { min, max } = TOKEN_KEY_REFRESH_RANGE_SECONDS;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigurationError(`${ENV.tokenKeyRefreshSeconds} must be an integer in [${min}, ${max}], got "${raw}"`);
  }
  return Number(raw);
}

/**
 * Reads the auth settings from the environment; exactly one key source must
 * be set. An HS256 secret never travels in the environment: only the name of
 * the parameter that holds it.
 */
export function readAuthSettings(env: Env = process.env): AuthSettings {
  const parameterName = env[ENV.jwtSecretParameter]?.trim();
  const publicKey = env[ENV.jwtPublicKey]?.trim();
  const jwksUrl = env[ENV.jwksUrl]?.trim();
  const issuer = env[ENV.jwtIssuer]?.trim() || undefined;
  const audience = env[ENV.jwtAudience]?.trim() || undefined;
  const checks: TokenChecks = { issuer, audience, maxLifetimeSeconds: maxLifetimeSeconds(env) };
  const sources = [parameterName, publicKey, jwksUrl].filter(Boolean).length;
  if (sources !== 1) {
    throw new ConfigurationError(`set exactly one of ${ENV.jwtSecretParameter}, ${ENV.jwtPublicKey}, ${ENV.jwksUrl} (found ${sources})`);
  }
  if (parameterName) return { kind: 'secretParameter', parameterName, refreshSeconds: refreshSeconds(env), ...checks };
  if (publicKey) return { kind: 'publicKey', publicKey: publicKey.replace(/\\n/g, '\n'), algorithms: asymmetricAlgorithms(env), ...checks };
  return { kind: 'jwks', jwksUrl: jwksUrl!, algorithms: asymmetricAlgorithms(env), ...checks };
}

/**
 * Fetches and caches a JWKS document; keys are looked up by `kid`. The
 * document is re-read when the cache expires or a token names an unknown
 * `kid` (the provider rotated), at most every 30 s, so tokens with made-up
 * kids cannot make every connect fetch.
 */
export class JwksKeySource {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;

  constructor(
    private readonly url: string,
    private readonly cacheMs = 10 * 60 * 1000,
    private readonly fetchJson: (url: string) => Promise<unknown> = async (u) => (await fetch(u)).json(),
  ) {}

  async keyFor(kid: string | undefined, now = Date.now()): Promise<KeyObject | undefined> {
    if (now - this.fetchedAt > this.cacheMs || (kid !== undefined && !this.keys.has(kid))) await this.refresh(now);
    if (kid !== undefined) return this.keys.get(kid);
    return this.keys.size === 1 ? [...this.keys.values()][0] : undefined;
  }

  private async refresh(now: number): Promise<void> {
    // Refetch at most every 30 s, even when tokens arrive with unknown kids.
    if (now - this.fetchedAt < 30_000 && this.keys.size > 0) return;
    const document = (await this.fetchJson(this.url)) as { keys?: Array<Record<string, unknown>> };
    const keys = new Map<string, KeyObject>();
    for (const jwk of document.keys ?? []) {
      if (typeof jwk.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
      keys.set(jwk.kid, createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }));
    }
    this.keys = keys;
    this.fetchedAt = now;
  }
}

function unauthorized(message: string, cause?: unknown): StreamerError {
  return new StreamerError('UNAUTHORIZED', message, { cause });
}

/** Verifies JWTs against pinned settings; the result is the caller's identity or `UNAUTHORIZED`. */
export class TokenVerifier {
  private readonly jwks?: JwksKeySource;
  private readonly storedKeys?: StoredTokenKeys;
  /**
   * Built once: given a string, jsonwebtoken tries to parse it as a public key
   * first (and fails) on every verify, ~350 µs against ~8 µs with a key object.
   */
  private readonly staticKey?: KeyObject;

  constructor(
    private readonly settings: AuthSettings,
    sources: { readonly jwks?: JwksKeySource; readonly storedKeys?: StoredTokenKeys } = {},
  ) {
    if (settings.kind === 'jwks') this.jwks = sources.jwks ?? new JwksKeySource(settings.jwksUrl);
    if (settings.kind === 'secretParameter') {
      if (sources.storedKeys === undefined) throw new ConfigurationError(`the token key parameter ${settings.parameterName} has no reader`);
      this.storedKeys = sources.storedKeys;
    }
    if (settings.kind === 'secret') this.staticKey = createSecretKey(Buffer.from(settings.secret, 'utf8'));
    if (settings.kind === 'publicKey') this.staticKey = createPublicKey(settings.publicKey);
  }

  /**
   * The caller's identity, or `UNAUTHORIZED`: the signature, `exp`/`nbf`,
   * issuer and audience, then the claims' own limits (`token-claims.ts`).
   */
  async verify(token: string | undefined, nowMs: number = Date.now()): Promise<Identity> {
    if (!token) throw unauthorized('No token: pass ?token=<JWT> or an Authorization: Bearer header');
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') throw unauthorized('Token is not a valid JWT');
    const { keys, algorithms } = await this.keysFor(decoded.header, nowMs);
    let claims: JwtPayload | undefined;
    try {
      // During a rotation's overlap two keys verify: a signature the first does not match may be the second's.
      for (const [index, key] of keys.entries()) {
        try {
          claims = jwt.verify(token, key, {
            algorithms: [...algorithms],
            issuer: this.settings.issuer,
            audience: this.settings.audience,
            clockTimestamp: Math.floor(nowMs / 1000),
          }) as JwtPayload;
          break;
        } catch (error) {
          const wrongKey = error instanceof jwt.JsonWebTokenError && error.message === 'invalid signature';
          if (!wrongKey || index === keys.length - 1) throw error;
        }
      }
    } catch (error) {
      const reason = error instanceof jwt.TokenExpiredError ? 'Token has expired'
        : error instanceof jwt.NotBeforeError ? 'Token is not valid yet'
        : `Token rejected: ${error instanceof Error ? error.message : 'invalid'}`;
      throw unauthorized(reason, error);
    }
    return identityFromClaims(claims as unknown as Record<string, unknown>, {
      maxLifetimeSeconds: this.settings.maxLifetimeSeconds ?? DEFAULTS.maxTokenLifetimeSeconds,
      nowSeconds: nowMs / 1000,
    });
  }

  private async keysFor(header: JwtHeader, nowMs: number): Promise<{ keys: readonly KeyObject[]; algorithms: readonly jwt.Algorithm[] }> {
    switch (this.settings.kind) {
      case 'secret':
        return { keys: [this.staticKey!], algorithms: ['HS256'] };
      case 'secretParameter': {
        const stored = await this.storedKeys!.keys().catch((error: unknown) => {
          if (error instanceof ConfigurationError) throw error;
          throw new StreamerError('INTERNAL_ERROR', 'Could not read the token key', { cause: error });
        });
        return { keys: acceptedKeys(stored, nowMs), algorithms: ['HS256'] };
      }
      case 'publicKey':
        return { keys: [this.staticKey!], algorithms: this.settings.algorithms };
      case 'jwks': {
        const key = await this.jwks!.keyFor(header.kid).catch((error: unknown) => {
          throw new StreamerError('INTERNAL_ERROR', 'Could not fetch the signing keys (JWKS)', { cause: error });
        });
        if (!key) throw unauthorized('Token is signed with an unknown key');
        return { keys: [key], algorithms: this.settings.algorithms };
      }
    }
  }
}
