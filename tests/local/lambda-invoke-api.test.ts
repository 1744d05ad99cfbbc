/**
 * Lambda's Invoke API in front of the containers, called through the real
 * `@aws-sdk/client-lambda` on a loopback server.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { handleInvokeApi } from '../../local/lambda-invoke-api';
import { LambdaContainers } from '../../local/lambda-containers';
import { ensureLocalBundle, REPO_ROOT } from '../support/local-runtime';
import { waitFor } from '../support/wait-for';

jest.setTimeout(30_000);

const NAME = 'streamer-local-reserved';
let lambda: LambdaContainers;
let server: Server;
let client: LambdaClient;
let dir: string;

beforeAll(async () => {
  await ensureLocalBundle();
  dir = mkdtempSync(join(tmpdir(), 'streamer-invoke-api-'));
  lambda = new LambdaContainers({
    functions: [{
      name: NAME,
      arn: `arn:aws:lambda:us-east-1:000000000000:function:${NAME}`,
      codeDir: join(REPO_ROOT, 'tests', 'local', 'fixtures', 'containers', 'probe'),
      handler: 'index.handler',
      environment: {},
      memoryMb: 128,
      timeoutSeconds: 10,
      reservedConcurrency: 1,
      asyncRetry: { maximumRetryAttempts: 0, delaysMs: [] },
    }],
    localConcurrencyCap: 4,
  });
  lambda.start();
  server = createServer((request, response) => {
    void handleInvokeApi(lambda, request, response, new URL(request.url ?? '/', 'http://127.0.0.1').pathname, 'us-east-1');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new LambdaClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await lambda.stop(0);
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const invoke = (payload: unknown, FunctionName = NAME) =>
  client.send(new InvokeCommand({ FunctionName, Payload: Buffer.from(JSON.stringify(payload)) }));

describe('the Invoke API', () => {
  it('answers with the function’s JSON result, by name or ARN', async () => {
    const byArn = await invoke({ action: 'count' }, `arn:aws:lambda:us-east-1:000000000000:function:${NAME}`);
    expect(byArn.StatusCode).toBe(200);
    expect(JSON.parse(Buffer.from(byArn.Payload!).toString('utf8'))).toEqual({ invocations: 1 });
  });

  it('throttles with 429 TooManyRequestsException while the reserved concurrency is in use', async () => {
    const holding = invoke({ action: 'hold', dir });
    await waitFor(() => existsSync(join(dir, 'holding')));
    const throttled = await invoke({ action: 'count' }).catch((error: unknown) => error);
    expect(throttled).toBeInstanceOf(TooManyRequestsException);
    expect(throttled).toMatchObject({ $metadata: { httpStatusCode: 429 }, Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
    writeFileSync(join(dir, 'release'), '');
    expect(JSON.parse(Buffer.from((await holding).Payload!).toString('utf8'))).toEqual({ released: true });
  });
});
