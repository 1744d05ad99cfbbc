/**
 * `$connect` refuses an identity the connections table could not hold with
 * 401, before its only store call, whichever verifier produced it.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import jwt from 'jsonwebtoken';
import { ulid } from 'ulid';
import { TokenVerifier } from '../../functions/core/auth/verify-token';
import type { Identity } from '../../functions/core/identity';
import { openConnection } from '../../functions/core/lifecycle/connection-lifecycle';
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

describe('opening a connection', () => {
  it('answers 401 with a reason to a signed token with a 10 KB sub, and stores nothing', async () => {
    const connectionId = ulid();
    const deps = { ...h.deps, verifier: new TokenVerifier({ kind: 'secret', secret: SECRET }) };
    const token = jwt.sign({ sub: 'x'.repeat(10_240), tenant_id: 'acme' }, SECRET, { expiresIn: 60 });
    const outcome = await openConnection(deps, { connectionId, queryStringParameters: { token } });
    expect(outcome).toEqual({ accepted: false, statusCode: 401, reason: expect.stringMatching(/"sub" is longer than 256/) });
    expect(await stored(connectionId)).toBeUndefined();
  });

  it.each([
    ['a 10 KB user id', { userId: 'x'.repeat(10_240), tenantId: 'acme', permissions: [] }],
    ['a blank tenant id', { userId: 'alice', tenantId: ' ', permissions: [] }],
    ['a permission with a control character', { userId: 'alice', tenantId: 'acme', permissions: ['read\u0000'] }],
  ])('answers 401 to %s even when the verifier let it through, and stores nothing', async (_case, identity) => {
    const connectionId = ulid();
    const outcome = await openConnection({ ...h.deps, verifier: new VouchingVerifier(identity) }, { connectionId });
    expect(outcome).toMatchObject({ accepted: false, statusCode: 401 });
    expect(await stored(connectionId)).toBeUndefined();
  });

  it('stores a connection whose ids hold "#", "%" and ":" under their escaped by_user key', async () => {
    const connectionId = ulid();
    const identity = { userId: 'a#b', tenantId: 't%:', permissions: [] };
    expect(await openConnection({ ...h.deps, verifier: new VouchingVerifier(identity) }, { connectionId })).toMatchObject({ accepted: true });
    expect(await stored(connectionId)).toMatchObject({ user_id: 'a#b', tenant_id: 't%:', tenant_user: 't%25:#a%23b' });
  });
});
