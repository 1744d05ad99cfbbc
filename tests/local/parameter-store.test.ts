/**
 * SSM Parameter Store as the functions reach it locally: the real
 * `@aws-sdk/client-ssm`, signed with each function's own credentials,
 * against the emulation that authorizes every call against that function's
 * role, as SSM and KMS would.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { DeployedFunction, LocalDeployment } from '../../local/deployment';
import { LocalIam } from '../../local/local-iam';
import { silentLogger } from '../../local/log';
import { startParameterStore, type RunningParameterStore } from '../../local/parameter-store';

const ACCOUNT = '000000000000';
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const parameterArn = (name: string) => `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/${name.replace(/^\//, '')}`;

function fn(name: string, statements: { Action: string[]; Resource: string[] }[], environment: Record<string, string> = {}): DeployedFunction {
  return {
    name,
    arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`,
    handler: 'index.handler',
    codeDir: '/nowhere',
    environment,
    memoryMb: 128,
    timeoutSeconds: 3,
    role: {
      arn: `arn:aws:iam::${ACCOUNT}:role/${name}-role`,
      name: `${name}-role`,
      policies: [{ name: `${name}-policy`, document: { Version: '2012-10-17', Statement: statements.map((s) => ({ Effect: 'Allow' as const, ...s })) } }],
    },
    asyncInvoke: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600 },
  };
}

const deployment: LocalDeployment = {
  project: 'streamer', stack: 'test', region: 'us-east-1', accountId: ACCOUNT, tables: [], buckets: [], streamMappings: [], schedules: [], queues: [], notEmulated: [],
  api: { id: 'abc', stage: 'live', executionArn: '', managementEndpoint: '', routes: {}, twoWayRoutes: [], routeAuthorizers: {} },
  parameters: [
    { name: '/streamer-test/token-key', arn: parameterArn('/streamer-test/token-key'), type: 'SecureString', tier: 'Standard', keyArn: undefined, value: { $secret: 'streamer:jwtSecret' } },
    { name: '/streamer-test/cmk-key', arn: parameterArn('/streamer-test/cmk-key'), type: 'SecureString', tier: 'Standard', keyArn: KEY_ARN, value: { $secret: 'streamer:jwtSecret' } },
  ],
  functions: [
    fn('connect', [{ Action: ['ssm:GetParameter'], Resource: [parameterArn('/streamer-test/token-key'), parameterArn('/streamer-test/cmk-key'), parameterArn('/shared/kept-elsewhere'), parameterArn('/streamer-test/missing')] }], {
      STREAMER_JWT_SECRET_PARAMETER: '/shared/kept-elsewhere',
    }),
    fn('connect-with-key', [
      { Action: ['ssm:GetParameter'], Resource: [parameterArn('/streamer-test/cmk-key')] },
      { Action: ['kms:Decrypt'], Resource: [KEY_ARN] },
    ]),
    fn('router', [{ Action: ['dynamodb:GetItem'], Resource: ['*'] }]),
  ],
};

let iam: LocalIam;
let store: RunningParameterStore;

beforeAll(async () => {
  iam = new LocalIam(deployment, silentLogger);
  store = await startParameterStore({ deployment, iam, secrets: { 'streamer:jwtSecret': 'the-stack-secret' }, developmentSecret: 'the-development-secret', host: '127.0.0.1', log: silentLogger });
});
afterAll(() => store.stop());

function clientOf(functionName: string): SSMClient {
  const credentials = iam.credentialsFor(functionName);
  return new SSMClient({
    region: 'us-east-1',
    endpoint: store.endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: credentials.AWS_ACCESS_KEY_ID, secretAccessKey: credentials.AWS_SECRET_ACCESS_KEY, sessionToken: credentials.AWS_SESSION_TOKEN },
  });
}

const read = (functionName: string, name: string) => clientOf(functionName).send(new GetParameterCommand({ Name: name, WithDecryption: true }));

describe('the local Parameter Store', () => {
  it('gives a function its granted parameter, the secret filled from the runtime’s config', async () => {
    const { Parameter } = await read('connect', '/streamer-test/token-key');
    expect(Parameter).toMatchObject({ Name: '/streamer-test/token-key', Type: 'SecureString', Value: 'the-stack-secret', Version: 1, ARN: parameterArn('/streamer-test/token-key') });
  });

  it('refuses a function whose role has no GetParameter on it, as SSM does', async () => {
    await expect(read('router', '/streamer-test/token-key')).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:000000000000:parameter/streamer-test/token-key'),
    });
  });

  it('requires kms:Decrypt on a customer key to decrypt, and only then', async () => {
    await expect(read('connect', '/streamer-test/cmk-key')).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('kms:Decrypt') });
    expect((await read('connect-with-key', '/streamer-test/cmk-key')).Parameter?.Value).toBe('the-stack-secret');
  });

  it('holds the development secret in a parameter a function reads that the stack does not create', async () => {
    expect((await read('connect', '/shared/kept-elsewhere')).Parameter?.Value).toBe('the-development-secret');
  });

  it('answers ParameterNotFound for a granted name that does not exist, and AccessDenied for one not granted (IAM first, as AWS)', async () => {
    await expect(read('connect', '/streamer-test/missing')).rejects.toMatchObject({ name: 'ParameterNotFound' });
    await expect(read('connect', '/streamer-test/token-key-typo')).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('refuses an unsigned call', async () => {
    const response = await fetch(store.endpoint, { method: 'POST', headers: { 'X-Amz-Target': 'AmazonSSM.GetParameter', 'Content-Type': 'application/x-amz-json-1.1' }, body: '{"Name":"/streamer-test/token-key"}' });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('MissingAuthenticationTokenException');
  });

  it('serves a rotated value at the next version', async () => {
    expect(store.put('/streamer-test/token-key', 'the-rotated-secret')).toBe(true);
    const { Parameter } = await read('connect', '/streamer-test/token-key');
    expect(Parameter).toMatchObject({ Value: 'the-rotated-secret', Version: 2 });
    expect(store.put('/nobody/has-this', 'x')).toBe(false);
  });
});
