/**
 * The three parts together, as the runtime will use them: verify the
 * signature, evaluate the role's policies, answer with AWS's error.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { accessDeniedResponse, assumedRoleArn, authenticationFailureResponse, evaluatePolicies, verifySigV4, type PolicyDocument } from '../../../local/iam';
import { startAwsTestServer, type AwsTestServer, type CannedResponse, type ReceivedRequest } from './aws-test-server';

const ACCOUNT = '123456789012';
const TABLE_ARN = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/Jobs`;
const role = { accessKeyId: 'ASIAWORKERROLE', secretAccessKey: 'worker-secret', sessionToken: 'worker-token' };
const principalArn = assumedRoleArn(ACCOUNT, 'streamer-worker-role', 'streamer-worker');
let rolePolicy: PolicyDocument;

async function authorize(request: ReceivedRequest): Promise<CannedResponse> {
  const verified = await verifySigV4(request, (id) => (id === role.accessKeyId ? role : undefined));
  if (!verified.ok) return authenticationFailureResponse('dynamodb', verified);
  const body = JSON.parse(request.body.toString()) as { TableName: string };
  const action = `dynamodb:${String(request.headers['x-amz-target']).split('.')[1]}`;
  const resource = `arn:aws:dynamodb:${verified.region}:${ACCOUNT}:table/${body.TableName}`;
  const { decision } = evaluatePolicies([rolePolicy], { action, resource });
  if (decision !== 'Allow') return accessDeniedResponse('dynamodb', { principalArn, action, resource, decision });
  return { status: 200, headers: { 'Content-Type': 'application/x-amz-json-1.0' }, body: '{}' };
}

let server: AwsTestServer;
beforeAll(async () => {
  server = await startAwsTestServer(authorize);
});
afterAll(() => server.close());

const updateJob = (credentials = role) =>
  new DynamoDBClient({ region: 'us-east-1', endpoint: server.endpoint, credentials, maxAttempts: 1 }).send(
    new UpdateItemCommand({ TableName: 'Jobs', Key: { pk: { S: 'job#1' } }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'done' } } }),
  );

describe('a function calling DynamoDB through the local authorizer', () => {
  it('succeeds when its role allows the action on the table', async () => {
    rolePolicy = { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: TABLE_ARN } };
    await expect(updateJob()).resolves.toBeDefined();
  });

  it('gets AccessDeniedException when its role does not allow the action', async () => {
    rolePolicy = { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE_ARN } };
    await expect(updateJob()).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: `User: ${principalArn} is not authorized to perform: dynamodb:UpdateItem on resource: ${TABLE_ARN} because no identity-based policy allows the dynamodb:UpdateItem action`,
    });
  });

  it('gets InvalidSignatureException when it signs with the wrong secret', async () => {
    await expect(updateJob({ ...role, secretAccessKey: 'stale-secret' })).rejects.toMatchObject({ name: 'InvalidSignatureException' });
  });

  it('gets UnrecognizedClientException when its access key is unknown', async () => {
    await expect(updateJob({ ...role, accessKeyId: 'ASIAUNKNOWN' })).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
  });
});
