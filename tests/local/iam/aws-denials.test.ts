import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  accessDeniedMessage,
  accessDeniedResponse,
  assumedRoleArn,
  authenticationFailureResponse,
  type AwsErrorResponse,
  type DenyingService,
} from '../../../local/iam/aws-denials';
import type { SigV4FailureReason } from '../../../local/iam/sigv4';
import { startAwsTestServer, type AwsTestServer } from './aws-test-server';

const principalArn = assumedRoleArn('123456789012', 'streamer-worker-role', 'streamer-worker');
const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/Jobs';
const CONNECTION_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/@connections/abc=';
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:streamer-worker';
const PARAMETER_ARN = 'arn:aws:ssm:us-east-1:123456789012:parameter/streamer-dev/token-key';

let server: AwsTestServer;
let nextResponse: AwsErrorResponse;

beforeAll(async () => {
  server = await startAwsTestServer(() => nextResponse);
});
afterAll(() => server.close());

const clientConfig = () => ({
  region: 'us-east-1',
  endpoint: server.endpoint,
  credentials: { accessKeyId: 'ASIALOCALTESTKEY', secretAccessKey: 'secret', sessionToken: 'token' },
  maxAttempts: 1,
});

/** One real SDK call per service, each failing with whatever the server sends. */
const calls: Readonly<Record<DenyingService, () => Promise<unknown>>> = {
  dynamodb: () =>
    new DynamoDBClient(clientConfig()).send(new UpdateItemCommand({ TableName: 'Jobs', Key: { pk: { S: 'job#1' } }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'done' } } })),
  'execute-api': () => new ApiGatewayManagementApiClient(clientConfig()).send(new PostToConnectionCommand({ ConnectionId: 'abc=', Data: Buffer.from('{}') })),
  lambda: () => new LambdaClient(clientConfig()).send(new InvokeCommand({ FunctionName: FUNCTION_ARN, InvocationType: 'Event' })),
  ssm: () => new SSMClient(clientConfig()).send(new GetParameterCommand({ Name: '/streamer-dev/token-key', WithDecryption: true })),
};

interface SdkError {
  readonly name: string;
  readonly message: string;
  readonly $metadata: { readonly httpStatusCode?: number };
}

async function sdkErrorFor(service: DenyingService, response: AwsErrorResponse): Promise<SdkError> {
  nextResponse = response;
  const error: unknown = await calls[service]().then(
    () => {
      throw new Error(`${service} call unexpectedly succeeded`);
    },
    (rejection: unknown) => rejection,
  );
  return error as SdkError;
}

describe('access denied responses', () => {
  it.each([
    ['dynamodb', 'dynamodb:UpdateItem', TABLE_ARN, 400],
    ['execute-api', 'execute-api:ManageConnections', CONNECTION_ARN, 403],
    ['lambda', 'lambda:InvokeFunction', FUNCTION_ARN, 403],
    ['ssm', 'ssm:GetParameter', PARAMETER_ARN, 400],
  ] as const)('makes the %s SDK client throw AccessDeniedException with the AWS message', async (service, action, resource, status) => {
    const denial = { principalArn, action, resource, decision: 'ImplicitDeny' } as const;
    const error = await sdkErrorFor(service, accessDeniedResponse(service, denial));
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toBe(accessDeniedMessage(service, denial));
    expect(error.$metadata.httpStatusCode).toBe(status);
  });

  it('words an implicit DynamoDB denial as no identity-based policy allowing the action', () => {
    expect(accessDeniedMessage('dynamodb', { principalArn, action: 'dynamodb:UpdateItem', resource: TABLE_ARN, decision: 'ImplicitDeny' })).toBe(
      'User: arn:aws:sts::123456789012:assumed-role/streamer-worker-role/streamer-worker is not authorized to perform: dynamodb:UpdateItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/Jobs because no identity-based policy allows the dynamodb:UpdateItem action',
    );
  });

  it('words an explicit Lambda denial as an explicit deny in an identity-based policy', async () => {
    const denial = { principalArn, action: 'lambda:InvokeFunction', resource: FUNCTION_ARN, decision: 'ExplicitDeny' } as const;
    const error = await sdkErrorFor('lambda', accessDeniedResponse('lambda', denial));
    expect(error.message).toBe(
      `User: ${principalArn} is not authorized to perform: lambda:InvokeFunction on resource: ${FUNCTION_ARN} with an explicit deny in an identity-based policy`,
    );
  });

  it('words an API Gateway management denial without a reason, as API Gateway does', () => {
    expect(accessDeniedMessage('execute-api', { principalArn, action: 'execute-api:ManageConnections', resource: CONNECTION_ARN, decision: 'ExplicitDeny' })).toBe(
      `User: ${principalArn} is not authorized to perform: execute-api:ManageConnections on resource: ${CONNECTION_ARN}`,
    );
  });

  it('encodes a DynamoDB denial as a JSON 1.0 coral error', () => {
    const response = accessDeniedResponse('dynamodb', { principalArn, action: 'dynamodb:UpdateItem', resource: TABLE_ARN, decision: 'ImplicitDeny' });
    expect(response.headers['Content-Type']).toBe('application/x-amz-json-1.0');
    expect(JSON.parse(response.body)).toEqual({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: expect.stringMatching(/^User: /) });
  });

  it('names an API Gateway management denial in the x-amzn-ErrorType header', () => {
    const response = accessDeniedResponse('execute-api', { principalArn, action: 'execute-api:ManageConnections', resource: CONNECTION_ARN, decision: 'ImplicitDeny' });
    expect(response).toMatchObject({ status: 403, headers: { 'x-amzn-ErrorType': 'AccessDeniedException' } });
    expect(Object.keys(JSON.parse(response.body))).toEqual(['Message']);
  });
});

describe('authentication failure responses', () => {
  const failures: readonly (readonly [SigV4FailureReason, string, string])[] = [
    ['unknown-key', 'UnrecognizedClientException', 'The security token included in the request is invalid.'],
    ['bad-token', 'UnrecognizedClientException', 'The security token included in the request is invalid.'],
    ['bad-signature', 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'],
    ['expired', 'InvalidSignatureException', 'Signature expired: 20260101T000000Z is now earlier than 20260101T001500Z (20260101T003000Z - 15 min.)'],
    ['malformed', 'IncompleteSignatureException', "Authorization header requires 'Signature' parameter."],
  ];
  const cases = (['dynamodb', 'execute-api', 'lambda'] as const).flatMap((service) => failures.map(([reason, name, message]) => [service, reason, name, message] as const));

  it.each(cases)('makes the %s SDK client throw the AWS error when verification fails with reason %s (%s)', async (service, reason, name, message) => {
    const error = await sdkErrorFor(service, authenticationFailureResponse(service, { reason, message }));
    expect(error.name).toBe(name);
    expect(error.message).toBe(message);
    expect(error.$metadata.httpStatusCode).toBe(service === 'dynamodb' ? 400 : 403);
  });

  it.each([
    ['dynamodb', 'Request is missing Authentication Token', 400],
    ['execute-api', 'Missing Authentication Token', 403],
    ['lambda', 'Missing Authentication Token', 403],
  ] as const)('makes the %s SDK client throw MissingAuthenticationTokenException for an unsigned request', async (service, message, status) => {
    const error = await sdkErrorFor(service, authenticationFailureResponse(service, { reason: 'missing', message: 'ignored' }));
    expect(error).toMatchObject({ name: 'MissingAuthenticationTokenException', message, $metadata: { httpStatusCode: status } });
  });

  it('answers an unsigned API Gateway management call with the lower-case message body API Gateway sends', () => {
    expect(JSON.parse(authenticationFailureResponse('execute-api', { reason: 'missing', message: '' }).body)).toEqual({ message: 'Missing Authentication Token' });
  });
});
