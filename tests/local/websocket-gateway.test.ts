/**
 * The emulated API Gateway WebSocket API and its @connections management
 * API, exercised over real sockets and the real AWS SDK client, around small
 * fixture functions.
 */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { WEBSOCKET_LIMITS } from '../../functions/core/aws-limits';
import { fixtureRouterCredentials, grantFixtureCalls, type SessionCredentials } from '../support/fixture-caller';
import { FIXTURE_FUNCTIONS_DIR, type LocalRuntimeHandle, startLocalRuntime } from '../support/local-runtime';
import { withoutRouteResponses } from '../support/manifest-edits';
import { openSocket } from '../support/socket-client';

jest.setTimeout(30_000);

let runtime: LocalRuntimeHandle;
let management: ApiGatewayManagementApiClient;
let dynamodb: DynamoDBClient;
let credentials: SessionCredentials;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    env: { STREAMER_LOCAL_FUNCTIONS_DIR: FIXTURE_FUNCTIONS_DIR, STREAMER_LOCAL_DASHBOARD_DIR: join(FIXTURE_FUNCTIONS_DIR, '..', 'dashboard') },
    editManifest: grantFixtureCalls,
  });
  // @connections answers only a function's signed calls: these come from the fixture router's role.
  credentials = await fixtureRouterCredentials(runtime);
  management = new ApiGatewayManagementApiClient({ endpoint: runtime.httpUrl, region: 'us-east-1', credentials });
  // The test reads DynamoDB Local itself, behind the runtime's IAM-checked front, as an operator would.
  dynamodb = new DynamoDBClient({ endpoint: runtime.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  management?.destroy();
  dynamodb?.destroy();
  await runtime?.stop();
});

const connectUrl = (query = ''): string => `${runtime.wsUrl}/?token=${runtime.mintToken({ sub: 'alice', tenant: 'acme' })}${query}`;

async function connectionIdOf(socket: Awaited<ReturnType<typeof openSocket>>): Promise<string> {
  socket.send({ id: 'who', action: 'echo' });
  const echo = await socket.next<{ id: string; event: { requestContext: { connectionId: string } } }>((m) => m.id === 'who');
  return echo.event.requestContext.connectionId;
}

async function disconnectRecord(connectionId: string): Promise<{ statusCode: number; reason: string } | undefined> {
  const { Item } = await dynamodb.send(
    new GetItemCommand({
      TableName: runtime.tableName('subscriptions'),
      Key: { request_id: { S: `disconnect#${connectionId}` }, connection_id: { S: connectionId } },
    }),
  );
  return Item && { statusCode: Number(Item.status_code!.N), reason: Item.reason!.S! };
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the $connect route', () => {
  it('refuses the handshake with the status the connect function answers', async () => {
    await expect(openSocket(connectUrl('&status=429'))).rejects.toMatchObject({ statusCode: 429 });
    expect(await runtime.listConnections()).toEqual([]);
  });

  it('accepts the handshake when the connect function answers 200, and lists the connection', async () => {
    const socket = await openSocket(connectUrl());
    const connectionId = await connectionIdOf(socket);
    expect((await runtime.listConnections()).map((c) => c.connectionId)).toContain(connectionId);
    await socket.close();
  });

  it('selects the subprotocol the connect function names in Sec-WebSocket-Protocol', async () => {
    const socket = await openSocket(connectUrl('&protocol=streamer.v1'), ['streamer.v1']);
    expect(socket.socket.protocol).toBe('streamer.v1');
    await socket.close();
  });
});

describe('the $default route', () => {
  it('invokes the router with a MESSAGE event shaped like API Gateway’s', async () => {
    const socket = await openSocket(connectUrl());
    socket.send({ id: 'e1', action: 'echo' });
    const { event } = await socket.next<{ id: string; event: Record<string, any> }>((m) => m.id === 'e1');
    expect(event).toEqual({
      requestContext: {
        routeKey: '$default',
        messageId: expect.any(String),
        eventType: 'MESSAGE',
        extendedRequestId: expect.any(String),
        requestTime: expect.stringMatching(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/),
        messageDirection: 'IN',
        stage: 'live',
        connectedAt: expect.any(Number),
        requestTimeEpoch: expect.any(Number),
        identity: { sourceIp: '127.0.0.1' },
        requestId: expect.any(String),
        domainName: `127.0.0.1:${runtime.port}`,
        connectionId: expect.stringMatching(/^[A-Za-z0-9_-]{15}=$/),
        apiId: expect.stringMatching(/^[a-z0-9]{10}$/),
        // What the $connect authorizer returned, numbers and booleans stringified as API Gateway hands them on.
        authorizer: { tenantId: 'acme', userId: 'alice', permissions: '[]', connectedBefore: '0', fixture: 'true', principalId: 'alice' },
      },
      body: JSON.stringify({ id: 'e1', action: 'echo' }),
      isBase64Encoded: false,
    });
    await socket.close();
  });

  it('passes binary frames base64 encoded', async () => {
    const socket = await openSocket(connectUrl());
    socket.socket.send(Buffer.alloc(1000, 7));
    expect(await socket.next((m) => m.type === 'binary')).toEqual({ type: 'binary', bytes: 1000 });
    await socket.close();
  });

  it('answers an integration failure the way API Gateway does, and keeps the connection open', async () => {
    const socket = await openSocket(connectUrl());
    socket.send({ id: 't1', action: 'throw' });
    const failure = await socket.next((m) => m.message === 'Internal server error');
    expect(failure).toEqual({ message: 'Internal server error', connectionId: expect.any(String), requestId: expect.any(String) });
    socket.send({ id: 'after', action: 'echo' });
    await socket.next((m) => m.id === 'after');
    await socket.close();
  });

  it('closes with 1009 on a single frame over 32 KB and tells $disconnect', async () => {
    const socket = await openSocket(connectUrl());
    const connectionId = await connectionIdOf(socket);
    socket.socket.send('x'.repeat(WEBSOCKET_LIMITS.maxFrameBytes + 1));
    expect((await socket.closed()).code).toBe(1009);
    expect(await eventually(() => disconnectRecord(connectionId))).toMatchObject({ statusCode: 1009 });
  });

  it('accepts a frame of exactly 32 KB', async () => {
    const socket = await openSocket(connectUrl());
    socket.socket.send(Buffer.alloc(WEBSOCKET_LIMITS.maxFrameBytes, 1));
    expect(await socket.next((m) => m.type === 'binary')).toEqual({ type: 'binary', bytes: WEBSOCKET_LIMITS.maxFrameBytes });
    await socket.close();
  });

  it('delivers a 128 KB message sent in 32 KB fragments to the router as one message', async () => {
    const socket = await openSocket(connectUrl());
    const message = Buffer.alloc(WEBSOCKET_LIMITS.maxMessageBytes, 3);
    for (let start = 0; start < message.length; start += WEBSOCKET_LIMITS.maxFrameBytes) {
      const end = start + WEBSOCKET_LIMITS.maxFrameBytes;
      socket.socket.send(message.subarray(start, end), { binary: true, fin: end >= message.length });
    }
    expect(await socket.next((m) => m.type === 'binary')).toEqual({ type: 'binary', bytes: WEBSOCKET_LIMITS.maxMessageBytes });
    await socket.close();
  });
});

function typesOf(socket: Awaited<ReturnType<typeof openSocket>>, id: string): unknown[] {
  return (socket.received as { id?: string; type?: string }[]).filter((m) => m.id === id).map((m) => m.type);
}

describe('the $default route response (two-way $default, as the program deploys it)', () => {
  it('sends the body the router returns to the client, after what the router posted', async () => {
    const socket = await openSocket(connectUrl());
    socket.send({ id: 'rr-1', action: 'post-then-return' });
    await socket.next((m) => m.id === 'rr-1' && m.type === 'returned');
    expect(typesOf(socket, 'rr-1')).toEqual(['posted', 'returned']);
    await socket.close();
  });

  it('sends nothing for a return value without a body', async () => {
    const socket = await openSocket(connectUrl());
    socket.send({ id: 'rr-2', action: 'enqueue' });
    socket.send({ id: 'rr-3', action: 'return-only' });
    // Replies to one connection's frames may come in any order; rr-2's empty result sends nothing at all.
    expect(await socket.next((m) => m.id === 'rr-2' || m.id === 'rr-3')).toMatchObject({ id: 'rr-3', type: 'returned' });
    socket.send({ id: 'rr-4', action: 'return-only' });
    expect(await socket.next((m) => m.id === 'rr-2' || m.id === 'rr-4')).toMatchObject({ id: 'rr-4' });
    await socket.close();
  });
});

describe('a $default route without a route response (one-way)', () => {
  let oneWay: LocalRuntimeHandle;
  beforeAll(async () => {
    oneWay = await startLocalRuntime({
      env: { STREAMER_LOCAL_FUNCTIONS_DIR: FIXTURE_FUNCTIONS_DIR, STREAMER_LOCAL_DASHBOARD_DIR: join(FIXTURE_FUNCTIONS_DIR, '..', 'dashboard') },
      editManifest: (manifest) => withoutRouteResponses(grantFixtureCalls(manifest)),
    });
  });
  afterAll(async () => oneWay?.stop());

  it('drops the body the router returns, as API Gateway does, and still delivers what it posts', async () => {
    const socket = await openSocket(`${oneWay.wsUrl}/?token=${oneWay.mintToken({ sub: 'alice', tenant: 'acme' })}`);
    socket.send({ id: 'ow-1', action: 'post-then-return' });
    expect(await socket.next((m) => m.id === 'ow-1')).toMatchObject({ type: 'posted' });
    // The invocation returns right after its post; this echo is routed only once the client saw that post,
    // so on a two-way route ow-1's 'returned' would come first (the test above).
    socket.send({ id: 'ow-2', action: 'echo' });
    await socket.next((m) => m.id === 'ow-2');
    expect(typesOf(socket, 'ow-1')).toEqual(['posted']);
    await socket.close();
  });
});

describe('the $disconnect route', () => {
  it('is invoked with the client’s close code', async () => {
    const socket = await openSocket(connectUrl());
    const connectionId = await connectionIdOf(socket);
    socket.socket.close(4000, 'bye');
    await socket.closed();
    expect(await eventually(() => disconnectRecord(connectionId))).toEqual({ statusCode: 4000, reason: 'bye' });
  });
});

describe('the @connections management API, through the AWS SDK client', () => {
  it('delivers PostToConnection data to the live socket as a text frame', async () => {
    const socket = await openSocket(connectUrl());
    const connectionId = await connectionIdOf(socket);
    await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('{"hello":"world"}') }));
    expect(await socket.next((m) => m.hello !== undefined)).toEqual({ hello: 'world' });
    await socket.close();
  });

  it('delivers PostToConnection data over 32 KB whole, in frames API Gateway would send', async () => {
    const socket = await openSocket(connectUrl());
    const connectionId = await connectionIdOf(socket);
    const text = 'y'.repeat(100 * 1024);
    await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify({ text })) }));
    expect(await socket.next((m) => m.text !== undefined)).toEqual({ text });
    await socket.close();
  });

  it('refuses PostToConnection data over 128 KB with PayloadTooLargeException (413)', async () => {
    const socket = await openSocket(connectUrl());
    const connectionId = await connectionIdOf(socket);
    const error = await management
      .send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.alloc(WEBSOCKET_LIMITS.maxMessageBytes + 1, 0x61) }))
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'PayloadTooLargeException', $metadata: { httpStatusCode: 413 } });
    await socket.close();
  });

  it('accepts the stage in the path, as the AWS endpoint carries it', async () => {
    const socket = await openSocket(connectUrl());
    const connectionId = await connectionIdOf(socket);
    const staged = new ApiGatewayManagementApiClient({ endpoint: `${runtime.httpUrl}/live`, region: 'us-east-1', credentials });
    await staged.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('"staged"') }));
    staged.destroy();
    expect(await socket.next((m) => (m as unknown) === 'staged')).toBe('staged');
    await socket.close();
  });

  it('describes a connection with GetConnection', async () => {
    const socket = await openSocket(connectUrl());
    const connectionId = await connectionIdOf(socket);
    const described = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(described.ConnectedAt).toBeInstanceOf(Date);
    expect(described.LastActiveAt!.getTime()).toBeGreaterThanOrEqual(described.ConnectedAt!.getTime());
    expect(described.Identity).toEqual({ SourceIp: '127.0.0.1' });
    await socket.close();
  });

  it('answers GoneException (410) for an unknown or closed connection', async () => {
    await expect(
      management.send(new PostToConnectionCommand({ ConnectionId: 'bm9uZXhpc3RlbnQ=', Data: Buffer.from('x') })),
    ).rejects.toBeInstanceOf(GoneException);

    const socket = await openSocket(connectUrl());
    const connectionId = await connectionIdOf(socket);
    await socket.close();
    await eventually(async () => ((await runtime.listConnections()).some((c) => c.connectionId === connectionId) ? undefined : true));
    const error = await management
      .send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('x') }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GoneException);
    expect((error as GoneException).$metadata.httpStatusCode).toBe(410);
  });

  it('closes a connection from the server side with DeleteConnection', async () => {
    const socket = await openSocket(connectUrl());
    const connectionId = await connectionIdOf(socket);
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect((await socket.closed()).code).toBe(1000);
    expect(await eventually(() => disconnectRecord(connectionId))).toMatchObject({ statusCode: 1000 });
  });
});

describe('local-only endpoints', () => {
  it('mint development tokens that the connect route accepts', async () => {
    const response = await fetch(`${runtime.httpUrl}/dev-token?sub=bob&tenant=acme&permissions=reports:read`);
    const { token, wsUrl } = (await response.json()) as { token: string; wsUrl: string };
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ sub: 'bob', tenant_id: 'acme', permissions: ['reports:read'] });
    const socket = await openSocket(wsUrl);
    await socket.close();
  });

  it('serve the dashboard at / and nothing outside its folder', async () => {
    const page = await fetch(`${runtime.httpUrl}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('fixture dashboard');
    expect((await fetch(`${runtime.httpUrl}/..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  it('answers health checks', async () => {
    expect(await (await fetch(`${runtime.httpUrl}/healthz`)).json()).toMatchObject({ status: 'ok' });
  });

  it('refuse /dev-token to a page of another origin, with no CORS header', async () => {
    const response = await fetch(`${runtime.httpUrl}/dev-token`, { headers: { origin: 'https://evil.example' } });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('the runtime’s HTTP server', () => {
  it('answers an upgrade with a 100 KB Authorization header with 431, not a reset', async () => {
    const { port } = new URL(runtime.httpUrl);
    const socket = createConnection(Number(port), '127.0.0.1');
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      socket.once('close', () => resolve(text));
    });
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
        `Sec-WebSocket-Version: 13\r\nAuthorization: Bearer ${'a'.repeat(100 * 1024)}\r\n\r\n`,
    );
    expect(await answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n[^]*"message":"Request Header Fields Too Large"/);
  });
});

describe('IAM on the @connections management API', () => {
  it('refuses an unsigned PostToConnection with 403 Missing Authentication Token, as AWS does', async () => {
    const socket = await openSocket(connectUrl());
    const connectionId = await connectionIdOf(socket);
    const response = await fetch(`${runtime.httpUrl}/live/@connections/${encodeURIComponent(connectionId)}`, { method: 'POST', body: '"forged"' });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Missing Authentication Token' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(socket.received.filter((m) => (m as unknown) === 'forged')).toEqual([]);
    await socket.close();
  });

  it('refuses an unsigned DeleteConnection and leaves the socket open', async () => {
    const socket = await openSocket(connectUrl());
    const connectionId = await connectionIdOf(socket);
    const unsigned = await fetch(`${runtime.httpUrl}/live/@connections/${encodeURIComponent(connectionId)}`, { method: 'DELETE' });
    expect(unsigned.status).toBe(403);
    socket.send({ id: 'still-open', action: 'echo' });
    expect(await socket.next((m) => m.id === 'still-open')).toMatchObject({ type: 'echo' });
    await socket.close();
  });
});
