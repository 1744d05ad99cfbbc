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
import type { LocalDeployment } from '../../local/deployment';
import { handleInvokeApi } from '../../local/lambda-invoke-api';
import { LocalIam } from '../../local/local-iam';
import { silentLogger } from '../../local/log';
import { LambdaContainers } from '../../local/lambda-containers';
import { ensureLocalBundle, REPO_ROOT } from '../support/local-runtime';
import { waitFor } from '../support/wait-for';

jest.setTimeout(30_000);

const NAME = 'streamer-local-reserved';
const ARN = `arn:aws:lambda:us-east-1:000000000000:function:${NAME}`;
const CALLER = 'streamer-local-caller';

/** A deployment of one calling function whose role may invoke the probe, and one whose role may not. */
function callers(): LocalDeployment {
  const role = (name: string, resource: string) => ({
    arn: `arn:aws:iam::000000000000:role/${name}`,
    name,
    policies: [{ name, document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow' as const, Action: ['lambda:InvokeFunction'], Resource: [resource] }] } }],
  });
  const fn = (name: string, resource: string) => ({
    name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    handler: 'index.handler',
    codeDir: dir,
    environment: {},
    memoryMb: 128,
    timeoutSeconds: 3,
    role: role(`${name}-role`, resource),
    asyncInvoke: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600 },
  });
  return {
    project: 'streamer', stack: 'test', region: 'us-east-1', accountId: '000000000000', tables: [], buckets: [], streamMappings: [], schedules: [], queues: [],
    parameters: [], notEmulated: [],
    api: { id: 'abc', stage: 'live', executionArn: '', managementEndpoint: '', routes: {}, twoWayRoutes: [], routeAuthorizers: {} },
    functions: [fn(CALLER, ARN), fn('streamer-local-stranger', 'arn:aws:lambda:us-east-1:000000000000:function:someone-else')],
  };
}
let iam: LocalIam;
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
  iam = new LocalIam(callers(), silentLogger);
  server = createServer((request, response) => {
    void handleInvokeApi(lambda, request, response, new URL(request.url ?? '/', 'http://127.0.0.1').pathname, {
      iam,
      region: 'us-east-1',
      accountId: '000000000000',
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = clientAs(CALLER);
});

/** A Lambda client signing with a function's role session, as that function's container would. */
function clientAs(functionName: string): LambdaClient {
  const credentials = iam.credentialsFor(functionName);
  return new LambdaClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: credentials.AWS_ACCESS_KEY_ID, secretAccessKey: credentials.AWS_SECRET_ACCESS_KEY, sessionToken: credentials.AWS_SESSION_TOKEN },
    maxAttempts: 1,
  });
}

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
    const byArn = await invoke({ action: 'count' }, ARN);
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

  it('refuses a caller whose role does not allow lambda:InvokeFunction on the function, as AWS does', async () => {
    const stranger = clientAs('streamer-local-stranger');
    const refused = await stranger.send(new InvokeCommand({ FunctionName: NAME, Payload: Buffer.from('{}') })).catch((error: unknown) => error);
    stranger.destroy();
    expect(refused).toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
      message: expect.stringContaining(`assumed-role/streamer-local-stranger-role/streamer-local-stranger is not authorized to perform: lambda:InvokeFunction on resource: ${ARN}`),
    });
  });

  it('refuses an unsigned call with 403', async () => {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/2015-03-31/functions/${NAME}/invocations`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(403);
  });
});
