/**
 * The `$connect` authorizer refuses an identity the connections table could
 * not hold with 401 (so `connect` never runs), whichever verifier produced
 * it; `connect` stores the identity it is handed under escaped keys.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import jwt from 'jsonwebtoken';
import { ulid } from 'ulid';
import { TokenVerifier } from '../../functions/core/auth/verify-token';
import type { Identity } from '../../functions/core/identity';
import { authorizeConnection, openConnection } from '../../functions/core/lifecycle/connection-lifecycle';
import { startHarness, stopDynamoDb, type Harness } from './core-harness';

jest.setTimeout(30_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness([]);
}, 30_000);
afterAll(async () => {
  await h.stop();
  await stopDynamoDb();
});

const SECRET = 'connect-claims-test-secret-of-some-length';

async function stored(connectionId: string): Promise<unknown> {
  const out = await h.db.send(new GetCommand({ TableName: h.tableName('connections'), Key: { connection_id: connectionId } }));
  return out.Item;
}

/** A verifier that vouches for any identity: stands for one that checks less than the claim rules. */
class VouchingVerifier extends TokenVerifier {
  constructor(private readonly identity: Identity) {
    super({ kind: 'secret', secret: SECRET });
  }

  override async verify(): Promise<Identity> {
    return this.identity;
  }
}

describe('authorizing a handshake', () => {
  it('answers 401 with a reason to a signed token with a 10 KB sub', async () => {
    const deps = { ...h.deps, verifier: new TokenVerifier({ kind: 'secret', secret: SECRET }) };
    const token = jwt.sign({ sub: 'x'.repeat(10_240), tenant_id: 'acme' }, SECRET, { expiresIn: 60 });
    const outcome = await authorizeConnection(deps, { queryStringParameters: { token } });
    expect(outcome).toEqual({ allowed: false, statusCode: 401, reason: expect.stringMatching(/"sub" is longer than 256/) });
  });

  it.each([
    ['a 10 KB user id', { userId: 'x'.repeat(10_240), tenantId: 'acme', permissions: [] }],
    ['a blank tenant id', { userId: 'alice', tenantId: ' ', permissions: [] }],
    ['a permission with a control character', { userId: 'alice', tenantId: 'acme', permissions: ['read\u0000'] }],
  ])('answers 401 to %s even when the verifier let it through', async (_case, identity) => {
    const outcome = await authorizeConnection({ ...h.deps, verifier: new VouchingVerifier(identity) }, {});
    expect(outcome).toMatchObject({ allowed: false, statusCode: 401 });
  });

  it('hands back the identity of a valid token, wherever the handshake carried it', async () => {
    const deps = { ...h.deps, verifier: new TokenVerifier({ kind: 'secret', secret: SECRET }) };
    const token = jwt.sign({ sub: 'alice', tenant_id: 'acme', permissions: ['reports:read'] }, SECRET, { expiresIn: 60 });
    const identity = { userId: 'alice', tenantId: 'acme', permissions: ['reports:read'] };
    for (const credentials of [
      { queryStringParameters: { token } },
      { queryStringParameters: { Authorization: `Bearer ${token}` } },
      { headers: { authorization: `Bearer ${token}` } },
    ]) {
      expect(await authorizeConnection(deps, credentials)).toEqual({ allowed: true, identity });
    }
  });
});

describe('opening a connection', () => {
  it('stores a connection whose ids hold "#", "%" and ":" under their escaped by_user key', async () => {
    const connectionId = ulid();
    const identity = { userId: 'a#b', tenantId: 't%:', permissions: [] };
    await openConnection(h.deps, { connectionId, identity });
    expect(await stored(connectionId)).toMatchObject({ user_id: 'a#b', tenant_id: 't%:', tenant_user: 't%25:#a%23b' });
  });
});
