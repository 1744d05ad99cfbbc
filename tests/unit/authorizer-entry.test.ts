/**
 * The authorizer function as API Gateway invokes it: an Allow policy on the
 * method ARN and the identity as context for a valid token, and the error
 * `Unauthorized` (API Gateway's 401) for a token it refuses, wherever the
 * handshake carried it. Keyed with a public key, so no AWS call is made.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Context } from 'aws-lambda';
import jwt from 'jsonwebtoken';
import type { WebSocketAuthorizerEvent } from '../../functions/websocket-event';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/live/$connect';
const saved = { ...process.env };
let handler: typeof import('../../functions/authorizer/index').handler;

beforeAll(async () => {
  for (const name of Object.keys(process.env)) if (name.startsWith('STREAMER_')) delete process.env[name];
  Object.assign(process.env, {
    STREAMER_JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    STREAMER_JWT_ALGORITHMS: 'RS256',
    STREAMER_JWT_MAX_LIFETIME_SECONDS: '3600',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  ({ handler } = await import('../../functions/authorizer/index'));
});

afterAll(() => {
  process.env = saved;
});

const context = { functionName: 'streamer-test-authorizer', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

function eventWith(parts: Partial<Pick<WebSocketAuthorizerEvent, 'headers' | 'queryStringParameters'>>): WebSocketAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn: METHOD_ARN,
    headers: parts.headers ?? { Host: 'abcdef123.execute-api.us-east-1.amazonaws.com' },
    multiValueHeaders: null,
    queryStringParameters: parts.queryStringParameters ?? null,
    multiValueQueryStringParameters: null,
    stageVariables: {},
    requestContext: { routeKey: '$connect', eventType: 'CONNECT', connectionId: 'conn-1', requestId: 'r-1' } as WebSocketAuthorizerEvent['requestContext'],
  };
}

const sign = (claims: object, options: jwt.SignOptions = { expiresIn: 600 }): string => jwt.sign(claims, privateKey, { algorithm: 'RS256', ...options });

describe('the authorizer', () => {
  const token = sign({ sub: 'alice', tenant_id: 'acme', permissions: ['reports:read'] });

  it.each([
    ['the query parameter token', { queryStringParameters: { token } }],
    ['the query parameter Authorization with Bearer', { queryStringParameters: { Authorization: `Bearer ${token}` } }],
    ['the Authorization header', { headers: { Authorization: `Bearer ${token}` } }],
  ])('allows execute-api:Invoke on the method ARN for a valid token in %s, with the identity as context', async (_case, parts) => {
    await expect(handler(eventWith(parts), context)).resolves.toEqual({
      principalId: 'alice',
      policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: METHOD_ARN }] },
      context: { tenantId: 'acme', userId: 'alice', permissions: '["reports:read"]' },
    });
  });

  it.each([
    ['no token', {}],
    ['a token that is no JWT', { queryStringParameters: { token: 'not-a-jwt' } }],
    ['an expired token', { queryStringParameters: { token: sign({ sub: 'alice', tenant_id: 'acme', exp: Math.floor(Date.now() / 1000) - 60 }, {}) } }],
    ['a token without tenant_id', { queryStringParameters: { token: sign({ sub: 'alice' }) } }],
    ['a token living longer than the stack allows', { queryStringParameters: { token: sign({ sub: 'alice', tenant_id: 'acme' }, { expiresIn: 7200 }) } }],
    ['an HS256 token signed with the public key (algorithm confusion)', {
      queryStringParameters: { token: jwt.sign({ sub: 'alice', tenant_id: 'acme' }, publicKey.export({ type: 'spki', format: 'pem' }).toString(), { algorithm: 'HS256', expiresIn: 60 }) },
    }],
  ])('throws Unauthorized, which API Gateway answers with 401, for %s', async (_case, parts) => {
    await expect(handler(eventWith(parts), context)).rejects.toThrow(/^Unauthorized$/);
  });
});
