/**
 * Each function's container gets exactly the environment the stack gives
 * it (the rendered manifest), plus what Lambda itself sets and the endpoint
 * overrides: no other function's variables, none of the runtime's.
 */
import { join } from 'node:path';
import { FUNCTION_NAMES } from '../../functions/core/function-declarations';
import { TOKEN_KEY_ENV } from '../../functions/core/function-declarations';
import { deploymentFromManifest, isSecretMarker, readManifest, type LocalDeployment } from '../../local/deployment';
import { containerEnvironment } from '../../local/function-environment';
import { DEFAULT_MANIFEST, REPO_ROOT } from '../support/local-runtime';

/** What Lambda sets in every container, and the endpoint overrides: the only variables beyond the stack's. */
const LAMBDA_AND_ENDPOINTS = [
  '_HANDLER',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'LAMBDA_TASK_ROOT',
  'TZ',
  'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_SSM',
  'AWS_ENDPOINT_URL_LAMBDA',
  'AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI',
];

let deployment: LocalDeployment;
beforeAll(() => {
  deployment = deploymentFromManifest(readManifest(DEFAULT_MANIFEST), REPO_ROOT);
});

const environmentOf = (name: string) => {
  const fn = deployment.functions.find((candidate) => candidate.name === `streamer-local-${name}`)!;
  return {
    fn,
    env: containerEnvironment(fn, {
      deployment,
      credentials: { AWS_ACCESS_KEY_ID: 'ASIA', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' },
      dynamodbEndpoint: 'http://127.0.0.1:1',
      s3Endpoint: 'http://127.0.0.1:4',
      ssmEndpoint: 'http://127.0.0.1:3',
      httpEndpoint: 'http://127.0.0.1:2',
      secrets: { 'streamer:jwtSecret': 'the-local-secret' },
    }),
  };
};

describe.each(FUNCTION_NAMES)('the %s container', (name) => {
  it('holds the manifest\'s variables and otherwise only what Lambda sets', () => {
    const { fn, env } = environmentOf(name);
    expect(Object.keys(env).sort()).toEqual([...new Set([...Object.keys(fn.environment), ...LAMBDA_AND_ENDPOINTS])].sort());
    for (const [key, value] of Object.entries(fn.environment)) {
      if (isSecretMarker(value)) expect(env[key]).toBe('the-local-secret');
      else if (value === deployment.api.managementEndpoint) expect(env[key]).toBe('http://127.0.0.1:2/live');
      else expect(env[key]).toBe(value);
    }
  });

  it('runs the bundle the manifest names', () => {
    expect(environmentOf(name).fn.codeDir).toBe(join(REPO_ROOT, 'dist', name));
  });
});

describe('token keys', () => {
  it.each(['connect', 'disconnect', 'router', 'processor'])('never reach the %s function', (name) => {
    const { env } = environmentOf(name);
    expect(Object.keys(env).filter((key) => TOKEN_KEY_ENV.includes(key))).toEqual([]);
  });

  it('are in no function\'s environment in the manifest: the authorizer is told only which parameter holds its key', () => {
    for (const fn of deployment.functions) {
      expect(Object.values(fn.environment).filter(isSecretMarker)).toEqual([]);
      expect(fn.environment.STREAMER_JWT_SECRET).toBeUndefined();
    }
    const { fn, env } = environmentOf('authorizer');
    expect(fn.environment.STREAMER_JWT_SECRET_PARAMETER).toBe('/streamer-local/token-key');
    expect(JSON.stringify(env)).not.toContain('the-local-secret');
  });

  it('live in an SSM SecureString parameter, its value a secret marker the local runtime fills', () => {
    expect(deployment.parameters).toEqual([
      {
        name: '/streamer-local/token-key',
        arn: `arn:aws:ssm:${deployment.region}:${deployment.accountId}:parameter/streamer-local/token-key`,
        type: 'SecureString',
        tier: 'Standard',
        keyArn: undefined,
        value: { $secret: 'streamer:jwtSecret' },
      },
    ]);
  });
});

describe('the $connect route', () => {
  it('is behind the token authorizer, a REQUEST authorizer of the authorizer function with no identity sources, read from the manifest', () => {
    expect(deployment.api.routeAuthorizers).toEqual({
      $connect: { id: expect.any(String), name: 'token', type: 'REQUEST', functionName: 'streamer-local-authorizer', identitySources: [] },
    });
    expect(deployment.api.routes.$connect).toBe('streamer-local-connect');
    expect(deployment.notEmulated.filter((resource) => resource.includes('apigatewayv2'))).toEqual([]);
  });

  it('refuses a manifest whose authorizer guards a route other than $connect, as API Gateway does', () => {
    const manifest = readManifest(DEFAULT_MANIFEST);
    const [authorizer] = manifest.resources.filter((r) => r.type === 'aws:apigatewayv2/authorizer:Authorizer');
    const resources = manifest.resources.map((r) =>
      r.type === 'aws:apigatewayv2/route:Route' && r.inputs.routeKey === '$default'
        ? { ...r, inputs: { ...r.inputs, authorizationType: 'CUSTOM', authorizerId: authorizer!.id } }
        : r,
    );
    expect(() => deploymentFromManifest({ ...manifest, resources }, REPO_ROOT)).toThrow(/route \$default has an authorizer: a WebSocket API allows one on \$connect only/);
  });
});
