import { StoredTokenKeys } from '../../functions/core/auth/stored-token-keys';
import { parseTokenKeySet, serializeTokenKeySet } from '../../functions/core/auth/token-key-set';
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { readAuthSettings, TokenVerifier, JwksKeySource } from '../../functions/core/auth/verify-token';
import { extractToken } from '../../functions/core/auth/extract-token';
import { MAX_IDENTITY_CLAIM_LENGTH, MAX_PERMISSION_LENGTH, MAX_PERMISSIONS } from '../../functions/core/auth/token-claims';

const secret = 'test-secret-test-secret-test-secret';
const hs = new TokenVerifier({ kind: 'secret', secret });
const claims = { sub: 'alice', tenant_id: 'acme' };
const sign = (payload: object, options: jwt.SignOptions = {}) => jwt.sign(payload, secret, { algorithm: 'HS256', expiresIn: 60, ...options });
/** Signs the claims exactly as given (a string payload): no `iat` or `exp` is added, none is checked. */
const signAsIs = (payload: object) => jwt.sign(JSON.stringify(payload), secret, { algorithm: 'HS256' });

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('token verification', () => {
  it('turns a valid HS256 token into an identity with permissions', async () => {
    await expect(hs.verify(sign({ ...claims, permissions: ['a', 7, 'b'] }))).resolves.toEqual({ userId: 'alice', tenantId: 'acme', permissions: ['a', 'b'] });
  });

  it.each([
    ['no token', undefined, /No token/],
    ['garbage', 'not.a.jwt', /not a valid JWT|rejected/],
    ['expired', sign(claims, { expiresIn: -10 }), /expired/],
    ['not yet valid', sign(claims, { notBefore: 3600 }), /not valid yet/],
    ['wrong key', jwt.sign(claims, 'another-secret', { algorithm: 'HS256', expiresIn: 60 }), /rejected/],
    ['missing sub', sign({ tenant_id: 'acme' }), /"sub"/],
    ['missing tenant_id', sign({ sub: 'alice' }), /"tenant_id"/],
    ['missing exp', jwt.sign(claims, secret, { algorithm: 'HS256' }), /"exp"/],
    ['alg none', `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...claims, exp: Math.floor(Date.now() / 1000) + 60 })}.`, /rejected|not a valid/],
  ])('refuses %s with UNAUTHORIZED', async (_case, token, message) => {
    await expect(hs.verify(token)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(message) });
  });

  it('checks issuer and audience when configured', async () => {
    const strict = new TokenVerifier({ kind: 'secret', secret, issuer: 'https://issuer.example', audience: 'streamer' });
    await expect(strict.verify(sign(claims, { issuer: 'https://issuer.example', audience: 'streamer' }))).resolves.toMatchObject({ userId: 'alice' });
    await expect(strict.verify(sign(claims, { issuer: 'https://evil.example', audience: 'streamer' }))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(strict.verify(sign(claims, { issuer: 'https://issuer.example', audience: 'other' }))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('verifies RS256 with a public key and refuses HS256 signed with that public key (algorithm confusion)', async () => {
    const rs = new TokenVerifier({ kind: 'publicKey', publicKey: rsaPublicPem, algorithms: ['RS256'] });
    const good = jwt.sign(claims, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { algorithm: 'RS256', expiresIn: 60 });
    await expect(rs.verify(good)).resolves.toMatchObject({ userId: 'alice' });
    // Forge an HS256 token whose HMAC key is the public key's PEM text.
    const { createHmac } = await import('node:crypto');
    const head = base64url({ alg: 'HS256', typ: 'JWT' });
    const body = base64url({ ...claims, exp: Math.floor(Date.now() / 1000) + 60 });
    const forged = `${head}.${body}.${createHmac('sha256', rsaPublicPem).update(`${head}.${body}`).digest('base64url')}`;
    await expect(rs.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('verifies ES256 through a JWKS document, choosing the key by kid', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...ec.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' };
    const source = new JwksKeySource('https://keys.example/jwks.json', 60_000, async () => ({ keys: [jwk] }));
    const verifier = new TokenVerifier({ kind: 'jwks', jwksUrl: 'https://keys.example/jwks.json', algorithms: ['ES256'] }, { jwks: source });
    const token = jwt.sign(claims, ec.privateKey, { algorithm: 'ES256', expiresIn: 60, keyid: 'k1' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ tenantId: 'acme' });
    const unknownKid = jwt.sign(claims, ec.privateKey, { algorithm: 'ES256', expiresIn: 60, keyid: 'k2' });
    await expect(verifier.verify(unknownKid)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});

describe('claim limits', () => {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const year = 365 * 86400;

  it.each([
    ['a 10 KB sub', sign({ ...claims, sub: 'x'.repeat(10_240) }), /"sub" is longer than 256 characters/],
    ['a sub one character too long', sign({ ...claims, sub: 'x'.repeat(MAX_IDENTITY_CLAIM_LENGTH + 1) }), /"sub" is longer/],
    ['a blank sub', sign({ ...claims, sub: '   ' }), /"sub" is blank/],
    ['a sub with a tab', sign({ ...claims, sub: 'ali\tce' }), /"sub" contains control characters/],
    ['a sub with NUL', sign({ ...claims, sub: 'alice\u0000' }), /"sub" contains control characters/],
    ['a sub with DEL', sign({ ...claims, sub: 'alice\u007f' }), /"sub" contains control characters/],
    ['a sub with a C1 control', sign({ ...claims, sub: 'alice\u0085' }), /"sub" contains control characters/],
    ['a sub that is not a string', sign({ ...claims, sub: 42 }), /no "sub"/],
    ['a 10 KB tenant_id', sign({ ...claims, tenant_id: 't'.repeat(10_240) }), /"tenant_id" is longer than 256 characters/],
    ['a blank tenant_id', sign({ ...claims, tenant_id: '\u3000 ' }), /"tenant_id" is blank/],
    ['a tenant_id with a newline', sign({ ...claims, tenant_id: 'acme\n' }), /"tenant_id" contains control characters/],
    ['permissions that are not an array', sign({ ...claims, permissions: 'admin' }), /"permissions" must be an array/],
    ['too many permissions', sign({ ...claims, permissions: Array.from({ length: MAX_PERMISSIONS + 1 }, (_, i) => `p${i}`) }), /more than 100 entries/],
    ['a permission too long', sign({ ...claims, permissions: ['p'.repeat(MAX_PERMISSION_LENGTH + 1)] }), /entry that is longer than 128/],
    ['a permission with a control character', sign({ ...claims, permissions: ['read\u0007'] }), /entry that contains control characters/],
    ['a blank permission', sign({ ...claims, permissions: [' '] }), /entry that is blank/],
    ['a token living 100 years', sign(claims, { expiresIn: 100 * year }), /lifetime of \d+ s exceeds the maximum of 86400 s/],
    ['a token valid until 2286 without iat', signAsIs({ ...claims, exp: 9_999_999_999 }), /exceeds the maximum/],
    ['a token whose iat lies in the future', signAsIs({ ...claims, iat: nowSeconds + 50 * year, exp: nowSeconds + 50 * year + 60 }), /exceeds the maximum/],
    ['a token whose iat is not a number', signAsIs({ ...claims, iat: 'yesterday', exp: nowSeconds + 60 }), /"iat" is not a number/],
  ])('refuses %s with UNAUTHORIZED', async (_case, token, message) => {
    await expect(hs.verify(token)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(message) });
  });

  it('never echoes the refused claim in the reason', async () => {
    const error = await hs.verify(sign({ ...claims, sub: 'secret-looking-id'.repeat(100) })).catch((e: Error) => e);
    expect((error as Error).message).not.toContain('secret-looking-id');
  });

  it('accepts claims at the limits', async () => {
    const permissions = Array.from({ length: MAX_PERMISSIONS }, (_, i) => `${i}`.padEnd(MAX_PERMISSION_LENGTH, 'p'));
    const token = sign({ sub: 'é'.repeat(MAX_IDENTITY_CLAIM_LENGTH), tenant_id: 'a#b:c%d', permissions }, { expiresIn: 86_400 });
    await expect(hs.verify(token)).resolves.toEqual({ userId: 'é'.repeat(MAX_IDENTITY_CLAIM_LENGTH), tenantId: 'a#b:c%d', permissions });
    // Without iat the lifetime counts from now: a day from now is within a day.
    await expect(hs.verify(signAsIs({ ...claims, exp: nowSeconds + 86_000 }))).resolves.toMatchObject({ userId: 'alice' });
  });

  it('takes the maximum lifetime from the settings', async () => {
    const short = new TokenVerifier({ kind: 'secret', secret, maxLifetimeSeconds: 120 });
    await expect(short.verify(sign(claims, { expiresIn: 120 }))).resolves.toMatchObject({ userId: 'alice' });
    await expect(short.verify(sign(claims, { expiresIn: 121 }))).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/maximum of 120 s/) });
    const long = new TokenVerifier({ kind: 'secret', secret, maxLifetimeSeconds: year });
    await expect(long.verify(sign(claims, { expiresIn: 30 * 86400 }))).resolves.toMatchObject({ userId: 'alice' });
  });
});

describe('auth settings', () => {
  it('reads the maximum token lifetime, 24 h by default, and refuses one out of [60, 31536000]', () => {
    expect(readAuthSettings({ STREAMER_JWT_SECRET_PARAMETER: '/p' }).maxLifetimeSeconds).toBe(86_400);
    expect(readAuthSettings({ STREAMER_JWT_SECRET_PARAMETER: '/p', STREAMER_JWT_MAX_LIFETIME_SECONDS: '3600' }).maxLifetimeSeconds).toBe(3600);
    for (const bad of ['59', '31536001', '1.5', 'a day', '-60']) {
      expect(() => readAuthSettings({ STREAMER_JWT_SECRET_PARAMETER: '/p', STREAMER_JWT_MAX_LIFETIME_SECONDS: bad })).toThrow(
        new RegExp(`STREAMER_JWT_MAX_LIFETIME_SECONDS must be an integer in \\[60, 31536000\\], got "${bad.replace('.', '\\.')}"`),
      );
    }
  });

  it('requires exactly one key source and names the variables', () => {
    expect(() => readAuthSettings({})).toThrow(/STREAMER_JWT_SECRET_PARAMETER, STREAMER_JWT_PUBLIC_KEY, STREAMER_JWKS_URL/);
    expect(() => readAuthSettings({ STREAMER_JWT_SECRET_PARAMETER: '/p', STREAMER_JWKS_URL: 'https://k' })).toThrow(/exactly one/);
    expect(readAuthSettings({ STREAMER_JWT_SECRET_PARAMETER: '/p' })).toMatchObject({ kind: 'secretParameter', parameterName: '/p', refreshSeconds: 300 });
    // The key itself in the environment is no key source: only where to read it.
    expect(() => readAuthSettings({ STREAMER_JWT_SECRET: 'a-secret-that-is-long-enough-for-hs256-keys' })).toThrow(/found 0/);
    expect(() => readAuthSettings({ STREAMER_JWKS_URL: 'https://k', STREAMER_JWT_ALGORITHMS: 'HS256' })).toThrow(/RS256 and ES256/);
  });
});

describe('token extraction', () => {
  it('reads ?token=, ?Authorization= (with or without Bearer) and the Authorization header', () => {
    expect(extractToken({ queryStringParameters: { token: 'a' } })).toBe('a');
    expect(extractToken({ queryStringParameters: { Authorization: 'Bearer b' } })).toBe('b');
    expect(extractToken({ queryStringParameters: { Authorization: 'c' } })).toBe('c');
    expect(extractToken({ headers: { authorization: 'Bearer d' } })).toBe('d');
    expect(extractToken({ headers: { Authorization: 'bearer e' } })).toBe('e');
    expect(extractToken({ queryStringParameters: { token: '' }, headers: {} })).toBeUndefined();
  });
});

describe('a stored key set, during and after a rotation', () => {
  const OLD = 'the-old-secret-that-is-long-enough-for-hs256';
  const NEW = 'the-new-secret-that-is-long-enough-for-hs256';
  const ROTATED_AT = Date.parse('2026-12-02T00:00:00Z');
  const OVERLAP_ENDS = ROTATED_AT + 3600_000;
  const signWith = (key: string, nowMs: number) =>
    jwt.sign({ ...claims, iat: Math.floor(nowMs / 1000) }, key, { algorithm: 'HS256', expiresIn: 7200 });

  /** A parameter store whose value an operator changes; each read counted. */
  function store(initial: string) {
    const state = { value: initial, reads: 0 };
    const keys = new StoredTokenKeys(async () => {
      state.reads++;
      return state.value;
    }, '/streamer-test/token-key');
    return { state, verifier: new TokenVerifier({ kind: 'secretParameter', parameterName: '/streamer-test/token-key', refreshSeconds: 300 }, { storedKeys: keys }) };
  }

  it('accepts old and new tokens during the overlap, and only new ones after it', async () => {
    const { state, verifier } = store(OLD);
    const oldToken = signWith(OLD, ROTATED_AT - 60_000);
    await expect(verifier.verify(oldToken, ROTATED_AT - 1000)).resolves.toMatchObject({ userId: 'alice' });

    state.value = serializeTokenKeySet({ current: NEW, previous: OLD, previousAcceptedUntil: new Date(OVERLAP_ENDS).toISOString() });
    const newToken = signWith(NEW, ROTATED_AT + 1000);
    const during = ROTATED_AT + 1800_000;
    await expect(verifier.verify(oldToken, during)).resolves.toMatchObject({ userId: 'alice' });
    await expect(verifier.verify(newToken, during)).resolves.toMatchObject({ userId: 'alice' });

    const after = OVERLAP_ENDS + 1000;
    await expect(verifier.verify(oldToken, after)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'Token rejected: invalid signature' });
    await expect(verifier.verify(newToken, after)).resolves.toMatchObject({ userId: 'alice' });
  });

  it('refuses, before the rotation, a token signed with the key that is yet to come', async () => {
    const { verifier } = store(OLD);
    await expect(verifier.verify(signWith(NEW, ROTATED_AT), ROTATED_AT)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('still reports an expired token as expired when two keys are accepted', async () => {
    const { verifier } = store(serializeTokenKeySet({ current: NEW, previous: OLD, previousAcceptedUntil: new Date(OVERLAP_ENDS).toISOString() }));
    const expired = jwt.sign({ ...claims, iat: Math.floor(ROTATED_AT / 1000) - 100 }, OLD, { algorithm: 'HS256', expiresIn: 10 });
    await expect(verifier.verify(expired, ROTATED_AT)).rejects.toMatchObject({ message: 'Token has expired' });
  });

  it('keeps verifying with the keys read last while the store cannot be reached', async () => {
    let fail = false;
    const keys = new StoredTokenKeys(async () => {
      if (fail) throw new Error('connect ETIMEDOUT');
      return NEW;
    }, '/p');
    const verifier = new TokenVerifier({ kind: 'secretParameter', parameterName: '/p', refreshSeconds: 1 }, { storedKeys: keys });
    await expect(verifier.verify(signWith(NEW, ROTATED_AT), ROTATED_AT)).resolves.toMatchObject({ userId: 'alice' });
    fail = true;
    await expect(verifier.verify(signWith(NEW, ROTATED_AT), ROTATED_AT)).resolves.toMatchObject({ userId: 'alice' });
  });

  it('fails as a server error, not a refused token, when the store was never readable', async () => {
    const keys = new StoredTokenKeys(async () => {
      throw new Error('AccessDeniedException');
    }, '/p');
    const verifier = new TokenVerifier({ kind: 'secretParameter', parameterName: '/p', refreshSeconds: 1 }, { storedKeys: keys });
    await expect(verifier.verify(signWith(NEW, ROTATED_AT), ROTATED_AT)).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
  });

  it('refuses a malformed key-set document with a configuration error that echoes no key', () => {
    expect(() => parseTokenKeySet(`{"current":"${NEW}","previous":"${OLD}"}`, 'the parameter /p')).toThrow(
      /the parameter \/p: "previousAcceptedUntil" must be an ISO 8601 instant/,
    );
    expect(() => parseTokenKeySet(`{"current":"${NEW}"`, 'the parameter /p')).toThrow(/is not JSON/);
    try {
      parseTokenKeySet(`{"current":"${NEW}","previous":"${OLD}"}`, 'p');
    } catch (error) {
      expect(String(error)).not.toContain(NEW);
      expect(String(error)).not.toContain(OLD);
    }
  });
});

describe('a JWKS source', () => {
  it('caches the keys, refetches on an unknown kid, and at most every 30 s', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...ec.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' };
    let fetches = 0;
    const source = new JwksKeySource('https://keys.example/jwks.json', 600_000, async () => {
      fetches++;
      return { keys: [jwk] };
    });
    const t0 = 1_000_000;
    expect(await source.keyFor('k1', t0)).toBeDefined();
    expect(await source.keyFor('k1', t0 + 1000)).toBeDefined();
    expect(fetches).toBe(1);
    // Unknown kids within 30 s of the last fetch: no refetch, however many arrive.
    for (let i = 0; i < 20; i++) expect(await source.keyFor(`made-up-${i}`, t0 + 2000 + i)).toBeUndefined();
    expect(fetches).toBe(1);
    // After 30 s an unknown kid refetches once (the provider may have rotated).
    expect(await source.keyFor('k2', t0 + 31_000)).toBeUndefined();
    expect(fetches).toBe(2);
    // The cache expires on its own after its lifetime.
    await source.keyFor('k1', t0 + 31_000 + 600_001);
    expect(fetches).toBe(3);
  });
});
