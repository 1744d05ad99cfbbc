/**
 * Correctly signed tokens whose claims break the limits of the protocol's
 * "Connecting" section are refused at the handshake with 401 (API Gateway's
 * body; the reason in the authorizer's log), never a 500 from the store,
 * against the local runtime running the real authorizer bundle with the
 * environment the stack renders for it.
 */
import jwt from 'jsonwebtoken';
import { DEV_JWT_SECRET } from '../../local/dev-token';
import { handshake as handshakeWith } from '../support/handshake';
import { startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';
import { waitFor } from '../support/wait-for';

jest.setTimeout(60_000);

let runtime: LocalRuntimeHandle;

beforeAll(async () => {
  // INFO: the authorizer's "Handshake refused" line (with its reason) is what the test reads.
  runtime = await startLocalRuntime({ env: { STREAMER_LOCAL_LOG_LEVEL: 'warn' }, stack: { logLevel: 'INFO' } });
});
afterAll(async () => {
  await runtime.stop();
});

/** Signs custom claims with the runtime's development secret (the default one: the tests set none). */
function signed(claims: Record<string, unknown>, options: jwt.SignOptions = { expiresIn: 600 }): string {
  return jwt.sign(claims, DEV_JWT_SECRET, { algorithm: 'HS256', ...options });
}

const handshake = (token: string) => handshakeWith(runtime.wsUrl, token);

const YEAR = 365 * 86400;

describe('connecting with a signed token whose claims break the limits', () => {
  it.each([
    ['a 10 KB sub', signed({ sub: 'x'.repeat(10_240), tenant_id: 'acme' }), /\\?"sub\\?" is longer than 256/],
    ['a blank sub', signed({ sub: '   ', tenant_id: 'acme' }), /\\?"sub\\?" is blank/],
    ['a sub with control characters', signed({ sub: 'ali\u0000ce\u001b[31m', tenant_id: 'acme' }), /\\?"sub\\?" contains control characters/],
    ['a 10 KB tenant_id', signed({ sub: 'alice', tenant_id: 't'.repeat(10_240) }), /\\?"tenant_id\\?" is longer than 256/],
    ['too many permissions', signed({ sub: 'alice', tenant_id: 'acme', permissions: Array.from({ length: 101 }, (_, i) => `p${i}`) }), /\\?"permissions\\?"/],
    ['a token valid for 100 years', signed({ sub: 'alice', tenant_id: 'acme' }, { expiresIn: 100 * YEAR }), /lifetime/],
  ])('refuses %s with HTTP 401, logs the reason, and stores no connection', async (_case, token, reason) => {
    const before = new Set((await runtime.listConnections()).map((c) => c.connectionId));
    const logged = runtime.output().length;
    const refused = await handshake(token);
    expect(refused).toEqual({ status: 401, body: JSON.stringify({ message: 'Unauthorized' }) });
    // The authorizer's log line (JSON, so its quotes may come escaped).
    await waitFor(() => reason.test(runtime.output().slice(logged)));
    expect((await runtime.listConnections()).filter((c) => !before.has(c.connectionId))).toEqual([]);
  });

  it('still connects with an ordinary token, and one with "#", "%" and ":" in its ids', async () => {
    expect((await handshake(runtime.mintToken({ sub: 'alice', tenant: 'acme' }))).status).toBe(101);
    expect((await handshake(signed({ sub: 'a#b:%23', tenant_id: 't#a', permissions: ['reports:read'] }))).status).toBe(101);
  });
});
