import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { readAuthSettings, TokenVerifier, JwksKeySource } from '../../functions/core/auth/verify-token';
import { extractToken } from '../../functions/core/auth/extract-token';

const secret = 'test-secret-test-secret-test-secret';
const hs = new TokenVerifier({ kind: 'secret', secret });
const claims = { sub: 'alice', tenant_id: 'acme' };
const sign = (payload: object, options: jwt.SignOptions = {}) => jwt.sign(payload, secret, { algorithm: 'HS256', expiresIn: 60, ...options });

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
    const verifier = new TokenVerifier({ kind: 'jwks', jwksUrl: 'https://keys.example/jwks.json', algorithms: ['ES256'] }, source);
    const token = jwt.sign(claims, ec.privateKey, { algorithm: 'ES256', expiresIn: 60, keyid: 'k1' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ tenantId: 'acme' });
    const unknownKid = jwt.sign(claims, ec.privateKey, { algorithm: 'ES256', expiresIn: 60, keyid: 'k2' });
    await expect(verifier.verify(unknownKid)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});

describe('auth settings', () => {
  it('requires exactly one key source and names the variables', () => {
    expect(() => readAuthSettings({})).toThrow(/STREAMER_JWT_SECRET, STREAMER_JWT_PUBLIC_KEY, STREAMER_JWKS_URL/);
    expect(() => readAuthSettings({ STREAMER_JWT_SECRET: 's', STREAMER_JWKS_URL: 'https://k' })).toThrow(/exactly one/);
    expect(readAuthSettings({ STREAMER_JWT_SECRET: 's' })).toMatchObject({ kind: 'secret' });
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
