/**
 * The Lambda side of the emulation: the Invoke API through the real
 * `@aws-sdk/client-lambda`, the requests stream → processor mapping, and
 * the lease-sweep schedule, around small fixture functions.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { FIXTURE_FUNCTIONS_DIR, type LocalRuntimeHandle, startLocalRuntime } from '../support/local-runtime';
import { openSocket } from '../support/socket-client';

jest.setTimeout(30_000);

let runtime: LocalRuntimeHandle;
let lambda: LambdaClient;
let dynamodb: DynamoDBClient;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const SWEEP_MS = 300;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    env: { STREAMER_LOCAL_FUNCTIONS_DIR: FIXTURE_FUNCTIONS_DIR, STREAMER_LOCAL_SWEEP_MS: String(SWEEP_MS), STREAMER_LOCAL_ASYNC_RETRIES: '0' },
  });
  lambda = new LambdaClient({ endpoint: runtime.httpUrl, region: 'us-east-1', credentials });
  dynamodb = new DynamoDBClient({ endpoint: runtime.dynamodbEndpoint, region: 'us-east-1', credentials });
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
      new InvokeCommand({ FunctionName: 'streamer-local-processor', Payload: payload({ hello: 'world' }) }),
    );
    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBeUndefined();
    expect(response.ExecutedVersion).toBe('$LATEST');
    const result = parse(response.Payload);
    expect(result).toMatchObject({ echo: { hello: 'world' }, functionName: 'streamer-local-processor' });
    // The processor's timeout is 900 s: the context counts down from it.
    expect(result.remainingMs).toBeGreaterThan(890_000);
    expect(result.remainingMs).toBeLessThanOrEqual(900_000);
  });

  it('accepts a full function ARN', async () => {
    const response = await lambda.send(
      new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:streamer-local-processor', Payload: payload({}) }),
    );
    expect(response.StatusCode).toBe(200);
  });

  it('reports a thrown error as X-Amz-Function-Error with Lambda’s error document', async () => {
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'streamer-local-processor', Payload: payload({ fail: 'boom' }) }));
    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBe('Unhandled');
    expect(parse(response.Payload)).toMatchObject({ errorType: 'TypeError', errorMessage: 'boom', trace: expect.any(Array) });
  });

  it('answers an Event invocation with 202 at once', async () => {
    const response = await lambda.send(
      new InvokeCommand({ FunctionName: 'streamer-local-processor', InvocationType: 'Event', Payload: payload({ hello: 1 }) }),
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
    expect(worked.functionName).toBe('streamer-local-processor');
    expect(worked.record).toMatchObject({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: expect.stringContaining('table/streamer-local-requests/stream/'),
      dynamodb: { NewImage: { status: { S: 'queued' } }, StreamViewType: 'NEW_AND_OLD_IMAGES' },
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
        TableName: 'streamer-local-rate-limits',
        FilterExpression: 'begins_with(bucket_key, :sweep)',
        ExpressionAttributeValues: { ':sweep': { S: 'sweep#' } },
      }),
    );
    expect(Items!.length).toBeGreaterThanOrEqual(2);
    const event = JSON.parse(Items![0]!.event!.S!);
    expect(event).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/streamer-local-lease-sweep'],
      detail: {},
    });
  });
});
