import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { verifySigV4, type SigningSecret } from '../../../local/iam/sigv4';
import { startAwsTestServer, type AwsTestServer, type CannedResponse, type ReceivedRequest } from './aws-test-server';

const credentials = { accessKeyId: 'ASIALOCALTESTKEY', secretAccessKey: 'local-secret-access-key', sessionToken: 'local-session-token' };
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:streamer-worker';
const knownKeys = (accessKeyId: string): SigningSecret | undefined =>
  accessKeyId === credentials.accessKeyId ? { secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken } : undefined;

/** A success response each client accepts, so every call completes with one request. */
function succeed(request: ReceivedRequest): CannedResponse {
  if (request.headers['x-amz-target']) return { status: 200, headers: { 'Content-Type': 'application/x-amz-json-1.0' }, body: '{}' };
  if (request.rawPath.startsWith('/2015-03-31/functions/')) return { status: 202 };
  return { status: 200 };
}

let server: AwsTestServer;
const clientConfig = () => ({ region: 'us-east-1', endpoint: server.endpoint, credentials, maxAttempts: 1 });

beforeAll(async () => {
  server = await startAwsTestServer(succeed);
  await new DynamoDBClient(clientConfig()).send(
    new UpdateItemCommand({
      TableName: 'Jobs',
      Key: { pk: { S: 'job#1' } },
      UpdateExpression: 'SET #s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': { S: 'running' } },
    }),
  );
  await new ApiGatewayManagementApiClient(clientConfig()).send(new PostToConnectionCommand({ ConnectionId: 'abc=', Data: Buffer.from('{"progress":1}') }));
  await new LambdaClient(clientConfig()).send(new InvokeCommand({ FunctionName: FUNCTION_ARN, InvocationType: 'Event', Payload: Buffer.from('{"job":"1"}') }));
  await new LambdaClient(clientConfig()).send(new InvokeCommand({ FunctionName: 'streamer-worker', Qualifier: 'live', InvocationType: 'Event' }));
});

afterAll(() => server.close());

const dynamodbRequest = () => server.received[0] as ReceivedRequest;
const connectionsRequest = () => server.received[1] as ReceivedRequest;
const lambdaRequest = () => server.received[2] as ReceivedRequest;
const qualifiedLambdaRequest = () => server.received[3] as ReceivedRequest;

/** The moment the SDK signed the request, from its own header. */
function signedAt(request: Pick<ReceivedRequest, 'headers'>): Date {
  const amzDate = String(request.headers['x-amz-date']);
  return new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
}

const verify = (request: ReceivedRequest, lookup = knownKeys, now = signedAt(request)) => verifySigV4(request, lookup, now);

describe('requests signed by real AWS SDK clients', () => {
  it('accepts a DynamoDB UpdateItem request and reports its key, region and service', async () => {
    expect(await verify(dynamodbRequest())).toEqual({ ok: true, accessKeyId: credentials.accessKeyId, region: 'us-east-1', service: 'dynamodb' });
  });

  it('accepts a PostToConnection request whose connection id is percent-encoded in the path', async () => {
    expect(connectionsRequest().rawPath).toBe('/@connections/abc%3D');
    expect(await verify(connectionsRequest())).toEqual({ ok: true, accessKeyId: credentials.accessKeyId, region: 'us-east-1', service: 'execute-api' });
  });

  it('accepts a Lambda Invoke request whose function ARN is percent-encoded in the path', async () => {
    expect(lambdaRequest().rawPath).toBe(`/2015-03-31/functions/${encodeURIComponent(FUNCTION_ARN)}/invocations`);
    expect(await verify(lambdaRequest())).toEqual({ ok: true, accessKeyId: credentials.accessKeyId, region: 'us-east-1', service: 'lambda' });
  });

  it('accepts a request with a query string', async () => {
    expect(qualifiedLambdaRequest().rawPath).toBe('/2015-03-31/functions/streamer-worker/invocations?Qualifier=live');
    expect((await verify(qualifiedLambdaRequest())).ok).toBe(true);
    expect(await verify({ ...qualifiedLambdaRequest(), rawPath: '/2015-03-31/functions/streamer-worker/invocations?Qualifier=dev' })).toMatchObject({ reason: 'bad-signature' });
  });

  it('accepts a request signed up to 15 minutes before the server clock', async () => {
    const request = dynamodbRequest();
    expect((await verify(request, knownKeys, new Date(signedAt(request).getTime() + 14 * 60_000))).ok).toBe(true);
  });
});

describe('requests that fail verification', () => {
  it('rejects a tampered body as a bad signature', async () => {
    const request = dynamodbRequest();
    const tampered = { ...request, body: Buffer.from(request.body.toString().replace('running', 'stopped')) };
    expect(await verify(tampered)).toMatchObject({ ok: false, reason: 'bad-signature', message: expect.stringMatching(/^The request signature we calculated does not match/) });
  });

  it('hashes the body itself when the client signed no payload hash header', async () => {
    // Some signers (not the JS SDK) leave x-amz-content-sha256 out; then the body is in the signature only through its hash.
    const signer = new SignatureV4({ service: 'lambda', region: 'us-east-1', credentials, sha256: Sha256, applyChecksum: false });
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/2015-03-31/functions/worker/invocations', headers: { host: '127.0.0.1:9' }, body: '{"job":"1"}' });
    expect(signed.headers['x-amz-content-sha256']).toBeUndefined();
    const request = { method: 'POST', rawPath: '/2015-03-31/functions/worker/invocations', headers: signed.headers, body: Buffer.from('{"job":"1"}') };
    const now = signedAt(request);
    expect((await verifySigV4(request, knownKeys, now)).ok).toBe(true);
    expect(await verifySigV4({ ...request, body: Buffer.from('{"job":"2"}') }, knownKeys, now)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('rejects a request sent to a different path than was signed', async () => {
    const redirected = { ...connectionsRequest(), rawPath: '/@connections/abd%3D' };
    expect(await verify(redirected)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('rejects a request signed with a different secret than the key has', async () => {
    const otherSecret = () => ({ secretAccessKey: 'another-secret', sessionToken: credentials.sessionToken });
    expect(await verify(dynamodbRequest(), otherSecret)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('rejects a different secret for a key id whose signing key it has already derived and cached', async () => {
    expect(await verify(dynamodbRequest())).toMatchObject({ ok: true });
    const rotated = () => ({ secretAccessKey: 'rotated-secret', sessionToken: credentials.sessionToken });
    expect(await verify(dynamodbRequest(), rotated)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(await verify(dynamodbRequest())).toMatchObject({ ok: true });
  });

  it('verifies requests signed on another day with that day\'s signing key', async () => {
    const client = new SignatureV4({ service: 'dynamodb', region: 'us-east-1', credentials, sha256: Sha256 });
    const request = { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/', query: {}, headers: { host: '127.0.0.1' }, body: '{}' };
    for (const day of ['2026-01-01T23:59:00Z', '2026-01-02T00:01:00Z']) {
      const signed = await client.sign(request, { signingDate: new Date(day) });
      const received = { method: 'POST', rawPath: '/', headers: signed.headers, body: Buffer.from('{}') };
      expect(await verifySigV4(received, knownKeys, new Date(day))).toMatchObject({ ok: true });
    }
  });

  it('rejects an access key id it does not know', async () => {
    expect(await verify(dynamodbRequest(), () => undefined)).toEqual({ ok: false, reason: 'unknown-key', message: 'The security token included in the request is invalid.' });
  });

  it('rejects a session token that is not the one issued with the key', async () => {
    const otherToken = () => ({ secretAccessKey: credentials.secretAccessKey, sessionToken: 'another-token' });
    expect(await verify(lambdaRequest(), otherToken)).toMatchObject({ ok: false, reason: 'bad-token' });
  });

  it('rejects a session token sent with a key that has none', async () => {
    expect(await verify(lambdaRequest(), () => ({ secretAccessKey: credentials.secretAccessKey }))).toMatchObject({ ok: false, reason: 'bad-token' });
  });

  it('reports a request without an Authorization header as missing authentication', async () => {
    const { authorization: _authorization, ...headers } = dynamodbRequest().headers;
    expect(await verify({ ...dynamodbRequest(), headers })).toEqual({ ok: false, reason: 'missing', message: 'Request is missing Authentication Token' });
  });

  it('reports a request without X-Amz-Date as malformed', async () => {
    const { 'x-amz-date': _date, ...headers } = dynamodbRequest().headers;
    expect(await verify({ ...dynamodbRequest(), headers }, knownKeys, signedAt(dynamodbRequest()))).toMatchObject({
      ok: false,
      reason: 'malformed',
      message: expect.stringContaining('X-Amz-Date'),
    });
  });

  it('reports an Authorization header without a Signature as malformed', async () => {
    const request = dynamodbRequest();
    const headers = { ...request.headers, authorization: String(request.headers.authorization).replace(/, Signature=.*$/, '') };
    expect(await verify({ ...request, headers })).toMatchObject({ ok: false, reason: 'malformed', message: "Authorization header requires 'Signature' parameter." });
  });

  it('rejects a request signed more than 15 minutes ago as expired, in AWS words', async () => {
    const request = dynamodbRequest();
    const result = await verify(request, knownKeys, new Date(signedAt(request).getTime() + 16 * 60_000));
    expect(result).toMatchObject({ ok: false, reason: 'expired', message: expect.stringMatching(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/) });
  });

  it('rejects a request dated more than 15 minutes ahead of the server clock', async () => {
    const request = dynamodbRequest();
    const result = await verify(request, knownKeys, new Date(signedAt(request).getTime() - 16 * 60_000));
    expect(result).toMatchObject({ ok: false, reason: 'expired', message: expect.stringMatching(/^Signature not yet current/) });
  });
});
