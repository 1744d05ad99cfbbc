/**
 * The connect function verifies tokens with the key from the secret store
 * (the local runtime's SSM Parameter Store, SigV4- and IAM-checked, filled
 * from the manifest), and a rotation written there reaches it without a
 * redeploy: during the overlap window tokens signed with the previous key
 * and with the new one are accepted, after it only the new one.
 */
import jwt from 'jsonwebtoken';
import { serializeTokenKeySet } from '../../functions/core/auth/token-key-set';
import { DEV_JWT_SECRET } from '../../local/dev-token';
import { handshake } from '../support/handshake';
import { startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';
import { waitFor } from '../support/wait-for';

jest.setTimeout(60_000);

const NEW_SECRET = 'the-rotated-secret-that-is-long-enough-for-hs256';
const PARAMETER = '/streamer-local/token-key';
/** Long enough to prove both keys work, short enough to wait out. */
const OVERLAP_MS = 4000;

let runtime: LocalRuntimeHandle;

beforeAll(async () => {
  // Connect re-reads the parameter at most every second (streamer:tokenKeyRefreshSeconds).
  runtime = await startLocalRuntime({ env: { STREAMER_LOCAL_LOG_LEVEL: 'warn' }, stack: { logLevel: 'INFO', tokenKeyRefreshSeconds: '1' } });
});
afterAll(async () => {
  await runtime.stop();
});

const tokenSignedWith = (secret: string): string =>
  jwt.sign({ sub: 'alice', tenant_id: 'acme' }, secret, { algorithm: 'HS256', expiresIn: 600 });

async function putParameter(value: string): Promise<number> {
  const response = await fetch(`${runtime.httpUrl}/_local/parameters?name=${encodeURIComponent(PARAMETER)}`, { method: 'PUT', body: value });
  return response.status;
}

it('accepts old and new tokens during the overlap window, and only new ones after it', async () => {
  const oldToken = tokenSignedWith(DEV_JWT_SECRET);
  const newToken = tokenSignedWith(NEW_SECRET);
  expect((await handshake(runtime.wsUrl, oldToken)).status).toBe(101);
  expect((await handshake(runtime.wsUrl, newToken)).status).toBe(401);

  const overlapEnds = Date.now() + OVERLAP_MS;
  expect(await putParameter(serializeTokenKeySet({ current: NEW_SECRET, previous: DEV_JWT_SECRET, previousAcceptedUntil: new Date(overlapEnds).toISOString() }))).toBe(204);
  // Warm containers pick the new key set up within the refresh interval, with no redeploy.
  await waitFor(async () => (await handshake(runtime.wsUrl, newToken)).status === 101, OVERLAP_MS - 1000, 200);
  expect(Date.now()).toBeLessThan(overlapEnds);
  expect((await handshake(runtime.wsUrl, oldToken)).status).toBe(101);
  expect((await handshake(runtime.wsUrl, newToken)).status).toBe(101);

  await waitFor(() => Date.now() > overlapEnds + 100, OVERLAP_MS + 1000, 100);
  const logged = runtime.output().length;
  const refused = await handshake(runtime.wsUrl, oldToken);
  expect(refused).toEqual({ status: 401, body: JSON.stringify({ message: 'Unauthorized' }) });
  // The reason stays on the server side: the authorizer logs it.
  await waitFor(() => /invalid signature/.test(runtime.output().slice(logged)));
  expect((await handshake(runtime.wsUrl, newToken)).status).toBe(101);
});

it('lets an operator change only parameters the stack holds', async () => {
  const response = await fetch(`${runtime.httpUrl}/_local/parameters?name=${encodeURIComponent('/someone-else/key')}`, { method: 'PUT', body: 'x' });
  expect(response.status).toBe(404);
});
