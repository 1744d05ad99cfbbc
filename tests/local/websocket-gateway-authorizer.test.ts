/**
 * The `$connect` route's Lambda REQUEST authorizer, emulated from the
 * manifest as API Gateway runs it: the event it gets, how its answer is
 * judged (401, 403, 500), and its context on every later event of the
 * connection. Around small fixture functions (`fixtures/functions/authorizer`).
 */
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { grantFixtureCalls } from '../support/fixture-caller';
import { handshake } from '../support/handshake';
import { FIXTURE_FUNCTIONS_DIR, type LocalRuntimeHandle, startLocalRuntime } from '../support/local-runtime';
import { withAuthorizerIdentitySources } from '../support/manifest-edits';
import { openSocket } from '../support/socket-client';
import { waitFor } from '../support/wait-for';

jest.setTimeout(30_000);

const FIXTURES = { STREAMER_LOCAL_FUNCTIONS_DIR: FIXTURE_FUNCTIONS_DIR, STREAMER_LOCAL_DASHBOARD_DIR: join(FIXTURE_FUNCTIONS_DIR, '..', 'dashboard') };

let runtime: LocalRuntimeHandle;
let dynamodb: DynamoDBClient;

beforeAll(async () => {
  runtime = await startLocalRuntime({ env: FIXTURES, editManifest: grantFixtureCalls });
  dynamodb = new DynamoDBClient({ endpoint: runtime.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  dynamodb?.destroy();
  await runtime?.stop();
});

const token = (): string => runtime.mintToken({ sub: 'alice', tenant: 'acme', permissions: ['reports:read'] });

async function invocationsOf(logical: string): Promise<number> {
  const stats = (await (await fetch(`${runtime.httpUrl}/_local/functions`)).json()) as Record<string, { invocations: number }>;
  return stats[runtime.functionName(logical)]!.invocations;
}

type Echo = { id: string; event: { requestContext: Record<string, unknown> } };

async function echoed(socket: Awaited<ReturnType<typeof openSocket>>): Promise<Echo['event']> {
  socket.send({ id: 'who', action: 'echo' });
  return (await socket.next<Echo>((m) => m.id === 'who')).event;
}

describe('a handshake behind the $connect authorizer', () => {
  it('invokes the authorizer with a REQUEST event shaped like API Gateway’s, method ARN included', async () => {
    const socket = await openSocket(`${runtime.wsUrl}/?token=${token()}&answer=event`);
    const { requestContext } = await echoed(socket);
    const event = JSON.parse((requestContext.authorizer as { event: string }).event) as Record<string, any>;
    const apiId = String(requestContext.apiId);
    expect(event).toEqual({
      type: 'REQUEST',
      methodArn: `arn:aws:execute-api:us-east-1:${runtime.manifest.accountId}:${apiId}/live/$connect`,
      headers: expect.objectContaining({ 'Sec-WebSocket-Version': '13', Upgrade: 'websocket' }),
      multiValueHeaders: expect.objectContaining({ 'Sec-WebSocket-Version': ['13'] }),
      queryStringParameters: { token: expect.any(String), answer: 'event' },
      multiValueQueryStringParameters: { token: [expect.any(String)], answer: ['event'] },
      stageVariables: {},
      requestContext: expect.objectContaining({
        routeKey: '$connect',
        eventType: 'CONNECT',
        stage: 'live',
        connectionId: requestContext.connectionId,
        apiId,
        identity: { sourceIp: '127.0.0.1' },
      }),
    });
    await socket.close();
  });

  it('hands the context and principalId the authorizer returned to $default and $disconnect, values as strings', async () => {
    const socket = await openSocket(`${runtime.wsUrl}/?token=${token()}`);
    const { requestContext } = await echoed(socket);
    expect(requestContext.authorizer).toEqual({
      tenantId: 'acme',
      userId: 'alice',
      permissions: '["reports:read"]',
      connectedBefore: '0',
      fixture: 'true',
      principalId: 'alice',
    });
    const connectionId = String(requestContext.connectionId);
    await socket.close();
    let record: Record<string, unknown> | undefined;
    await waitFor(async () => {
      const { Item } = await dynamodb.send(
        new GetItemCommand({
          TableName: runtime.tableName('subscriptions'),
          Key: { request_id: { S: `disconnect#${connectionId}` }, connection_id: { S: connectionId } },
        }),
      );
      record = Item;
      return Item !== undefined;
    });
    expect(record!.principal_id).toEqual({ S: 'alice' });
  });

  it.each([
    ['a token that is no JWT', '?token=not-a-jwt'],
    ['no token at all', ''],
  ])('answers 401 to %s, without running $connect', async (_case, query) => {
    const connects = await invocationsOf('connect');
    await expect(openSocket(`${runtime.wsUrl}/${query}`)).rejects.toMatchObject({ statusCode: 401 });
    expect(await invocationsOf('connect')).toBe(connects);
    expect(await runtime.listConnections()).toEqual([]);
  });

  it('answers 401 with API Gateway’s body when the authorizer throws Unauthorized', async () => {
    const connects = await invocationsOf('connect');
    expect(await handshake(runtime.wsUrl, 'not-a-jwt')).toEqual({ status: 401, body: JSON.stringify({ message: 'Unauthorized' }) });
    expect(await invocationsOf('connect')).toBe(connects);
  });

  it.each([
    ['403 to a policy with an explicit Deny', 'deny', 403],
    ['403 to a policy that allows another route only', 'other-route', 403],
    ['500 to a context value that is an object (API Gateway’s AuthorizerConfigurationException)', 'nested-context', 500],
    ['500 to an answer without a policy document', 'no-policy', 500],
    ['500 to an error other than Unauthorized', 'fail', 500],
  ])('answers %s, without running $connect', async (_case, answer, statusCode) => {
    const connects = await invocationsOf('connect');
    await expect(openSocket(`${runtime.wsUrl}/?token=${token()}&answer=${answer}`)).rejects.toMatchObject({ statusCode });
    expect(await invocationsOf('connect')).toBe(connects);
  });
});

describe('an authorizer with identity sources', () => {
  let strict: LocalRuntimeHandle;
  beforeAll(async () => {
    strict = await startLocalRuntime({
      env: FIXTURES,
      editManifest: (manifest) => withAuthorizerIdentitySources(grantFixtureCalls(manifest), ['route.request.querystring.token']),
    });
  });
  afterAll(async () => {
    await strict?.stop();
  });

  it('answers 401 without invoking the authorizer when a source is missing, and invokes it when present', async () => {
    const stats = async (): Promise<number> => {
      const all = (await (await fetch(`${strict.httpUrl}/_local/functions`)).json()) as Record<string, { invocations: number }>;
      return all[strict.functionName('authorizer')]!.invocations;
    };
    const before = await stats();
    await expect(openSocket(`${strict.wsUrl}/?Authorization=Bearer%20${strict.mintToken({ sub: 'alice', tenant: 'acme' })}`)).rejects.toMatchObject({
      statusCode: 401,
    });
    expect(await stats()).toBe(before);
    const socket = await openSocket(`${strict.wsUrl}/?token=${strict.mintToken({ sub: 'alice', tenant: 'acme' })}`);
    expect(await stats()).toBe(before + 1);
    await socket.close();
  });
});
