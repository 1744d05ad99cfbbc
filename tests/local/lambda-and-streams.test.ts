/**
 * The Lambda side of the emulation: the Invoke API through the real
 * `@aws-sdk/client-lambda`, the requests stream → processor mapping, and
 * the lease-sweep schedule, around small fixture functions.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { fixtureRouterCredentials, grantFixtureCalls } from '../support/fixture-caller';
import { FIXTURE_FUNCTIONS_DIR, type LocalRuntimeHandle, startLocalRuntime } from '../support/local-runtime';
import { withoutStatement } from '../support/manifest-edits';
import { openSocket } from '../support/socket-client';

jest.setTimeout(30_000);

let runtime: LocalRuntimeHandle;
let lambda: LambdaClient;
let dynamodb: DynamoDBClient;
const SWEEP_MS = 300;
let processor: string;
let processorArn: string;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    env: { STREAMER_LOCAL_FUNCTIONS_DIR: FIXTURE_FUNCTIONS_DIR, STREAMER_LOCAL_SWEEP_MS: String(SWEEP_MS), STREAMER_LOCAL_ASYNC_RETRIES: '0' },
    editManifest: grantFixtureCalls,
  });
  // The Invoke API answers only a function's signed calls: these come from the fixture router's role.
  lambda = new LambdaClient({ endpoint: runtime.httpUrl, region: 'us-east-1', credentials: await fixtureRouterCredentials(runtime) });
  // The test reads DynamoDB Local itself, behind the runtime's IAM-checked front, as an operator would.
  dynamodb = new DynamoDBClient({ endpoint: runtime.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  processor = runtime.functionName('processor');
  processorArn = `arn:aws:lambda:us-east-1:123456789012:function:${processor}`;
});

afterAll(async () => {
  lambda?.destroy();
  dynamodb?.destroy();
  await runtime?.stop();
});

const payload = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
const parse = (bytes: Uint8Array | undefined): any => JSON.parse(Buffer.from(bytes ?? []).toString('utf8'));

describe('the Lambda Invoke API, through the AWS SDK client', () => {
  it('runs a RequestResponse invocation and returns the function’s result with a Lambda context', async () => {
    const response = await lambda.send(
      new InvokeCommand({ FunctionName: processor, Payload: payload({ hello: 'world' }) }),
    );
    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBeUndefined();
    expect(response.ExecutedVersion).toBe('$LATEST');
    const result = parse(response.Payload);
    expect(result).toMatchObject({ echo: { hello: 'world' }, functionName: processor });
    // The processor's timeout is 900 s: the context counts down from it.
    expect(result.remainingMs).toBeGreaterThan(890_000);
    expect(result.remainingMs).toBeLessThanOrEqual(900_000);
  });

  it('accepts a full function ARN', async () => {
    const response = await lambda.send(
      new InvokeCommand({ FunctionName: processorArn, Payload: payload({}) }),
    );
    expect(response.StatusCode).toBe(200);
  });

  it('reports a thrown error as X-Amz-Function-Error with Lambda’s error document', async () => {
    const response = await lambda.send(new InvokeCommand({ FunctionName: processor, Payload: payload({ fail: 'boom' }) }));
    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBe('Unhandled');
    expect(parse(response.Payload)).toMatchObject({ errorType: 'TypeError', errorMessage: 'boom', trace: expect.any(Array) });
  });

  it('answers an Event invocation with 202 at once', async () => {
    const response = await lambda.send(
      new InvokeCommand({ FunctionName: processor, InvocationType: 'Event', Payload: payload({ hello: 1 }) }),
    );
    expect(response.StatusCode).toBe(202);
  });

  it('answers ResourceNotFoundException for a function that does not exist', async () => {
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'someone-elses-function', Payload: payload({}) }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});

describe('the requests stream → processor event source mapping', () => {
  it('delivers a queued request to the processor, which runs it through an asynchronous worker invocation', async () => {
    const socket = await openSocket(`${runtime.wsUrl}/?token=${runtime.mintToken({ sub: 'alice', tenant: 'acme' })}`);
    socket.send({ id: 'req-queued', action: 'enqueue' });
    const worked = await socket.next<{ type: string; requestId: string; record: any; functionName: string }>(
      (m) => m.type === 'worked',
    );
    expect(worked.requestId).toBe('req-queued');
    expect(worked.functionName).toBe(processor);
    expect(worked.record).toMatchObject({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      // The stream's ARN as AWS forms it (the manifest's), not DynamoDB Local's.
      eventSourceARN: `arn:aws:dynamodb:us-east-1:123456789012:table/${runtime.tableName('requests')}/stream/1970-01-01T00:00:00.000`,
      dynamodb: { NewImage: { status: { S: 'queued' } }, StreamViewType: 'NEW_IMAGE' },
    });
    await socket.close();
  });

  it('never wakes the processor for records the filter rejects', async () => {
    const socket = await openSocket(`${runtime.wsUrl}/?token=${runtime.mintToken({ sub: 'alice', tenant: 'acme' })}`);
    socket.send({ id: 'req-processing', action: 'enqueue', status: 'processing' });
    socket.send({ id: 'req-after', action: 'enqueue' });
    await socket.next((m) => m.type === 'worked' && m.requestId === 'req-after');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket.received.filter((m: any) => m.type === 'worked').map((m: any) => m.requestId)).toEqual(['req-after']);
    await socket.close();
  });

  it('has discarded nothing to the dead-letter destination', async () => {
    expect(await (await fetch(`${runtime.httpUrl}/_local/dead-letters`)).json()).toEqual([]);
  });
});

describe('the lease-sweep schedule', () => {
  it('invokes the processor with EventBridge scheduled events', async () => {
    await new Promise((resolve) => setTimeout(resolve, SWEEP_MS * 3));
    const { Items } = await dynamodb.send(
      new ScanCommand({
        TableName: runtime.tableName('requests'),
        FilterExpression: 'begins_with(request_id, :sweep)',
        ExpressionAttributeValues: { ':sweep': { S: 'sweep#' } },
      }),
    );
    expect(Items!.length).toBeGreaterThanOrEqual(2);
    const event = JSON.parse(Items![0]!.scheduled_event!.S!);
    expect(event).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      region: 'us-east-1',
      resources: [expect.stringMatching(/^arn:aws:events:us-east-1:123456789012:rule\/streamer-lease-sweep-[0-9a-f]{7}$/)],
      detail: {},
    });
  });
});

describe('IAM on the Invoke API', () => {
  it('refuses an unsigned call with 403, as AWS refuses an anonymous one', async () => {
    const response = await fetch(`${runtime.httpUrl}/2015-03-31/functions/${processor}/invocations`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(403);
  });

  it('refuses a call signed with made-up credentials', async () => {
    const stranger = new LambdaClient({ endpoint: runtime.httpUrl, region: 'us-east-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'nope' }, maxAttempts: 1 });
    await expect(stranger.send(new InvokeCommand({ FunctionName: processor, Payload: payload({}) }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    stranger.destroy();
  });
});

describe('a role without the grant a call needs', () => {
  it('fails the call with AccessDeniedException naming the role, the action and the resource', async () => {
    const denied = await startLocalRuntime({
      env: { STREAMER_LOCAL_FUNCTIONS_DIR: FIXTURE_FUNCTIONS_DIR, STREAMER_LOCAL_ASYNC_RETRIES: '0' },
      // The fixture router may still post (ManageConnections) but no longer invoke.
      editManifest: (manifest) => withoutStatement(withoutStatement(grantFixtureCalls(manifest), 'router', 'FixtureCallsFromTests'), 'router', 'ManageConnections'),
    });
    try {
      const socket = await openSocket(`${denied.wsUrl}/?token=${denied.mintToken({ sub: 'alice', tenant: 'acme' })}`);
      socket.send({ id: 'e1', action: 'echo' });
      // The router's reply is a PostToConnection its role no longer allows: the fixture's call throws
      // AccessDeniedException, the invocation fails, and API Gateway tells the client so.
      expect(await socket.next((m) => m.message !== undefined)).toMatchObject({ message: 'Internal server error' });
      expect(denied.output()).toMatch(/ACCESS DENIED: streamer-local-router \(role streamer-router-[0-9a-f]{7}\) may not execute-api:ManageConnections on arn:aws:execute-api:us-east-1:123456789012:[a-z0-9]{10}\/live\/POST\/@connections\//);
      await socket.close();
    } finally {
      await denied.stop();
    }
  });
});
