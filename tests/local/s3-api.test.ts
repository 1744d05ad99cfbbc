/**
 * The local S3 emulation, called through the real `@aws-sdk/client-s3` and
 * `@aws-sdk/s3-request-presigner` with a function's credentials: objects,
 * IAM per key prefix, presigned URLs checked for signature and expiry,
 * CORS, and lifecycle expiration.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { DeployedBucket, LocalDeployment } from '../../local/deployment';
import { LocalIam } from '../../local/local-iam';
import { silentLogger } from '../../local/log';
import { startS3Api, type RunningS3Api } from '../../local/s3-api';
import { BucketObjects } from '../../local/s3-objects';

const BUCKET: DeployedBucket = {
  name: 'streamer-results-abc1234',
  arn: 'arn:aws:s3:::streamer-results-abc1234',
  lifecycle: [{ id: 'expire-results', prefix: 'results/', expirationDays: 7 }, { id: 'expire-uploads', prefix: 'uploads/', expirationDays: 1 }],
  cors: [{ allowedMethods: ['GET', 'HEAD', 'PUT'], allowedOrigins: ['*'], allowedHeaders: ['content-type', 'content-length'], exposeHeaders: ['etag'] }],
};
const WRITER = 'streamer-local-writer';

function deployment(): LocalDeployment {
  const statement = (Action: string, Resource: string) => ({ Effect: 'Allow' as const, Action: [Action], Resource: [Resource] });
  return {
    project: 'streamer', stack: 'test', region: 'us-east-1', accountId: '000000000000', tables: [], buckets: [BUCKET], parameters: [], streamMappings: [], schedules: [], queues: [], notEmulated: [],
    api: { id: 'abc', stage: 'live', executionArn: '', managementEndpoint: '', routes: {}, twoWayRoutes: [], routeAuthorizers: {} },
    functions: [
      {
        name: WRITER,
        arn: `arn:aws:lambda:us-east-1:000000000000:function:${WRITER}`,
        handler: 'index.handler',
        codeDir: '/nowhere',
        environment: {},
        memoryMb: 128,
        timeoutSeconds: 3,
        role: {
          arn: 'arn:aws:iam::000000000000:role/writer',
          name: 'writer',
          policies: [
            {
              name: 'writer',
              document: {
                Version: '2012-10-17',
                Statement: [
                  statement('s3:PutObject', `${BUCKET.arn}/results/*`),
                  statement('s3:GetObject', `${BUCKET.arn}/results/*`),
                  statement('s3:PutObject', `${BUCKET.arn}/uploads/*`),
                  statement('s3:DeleteObject', `${BUCKET.arn}/results/*`),
                ],
              },
            },
          ],
        },
        asyncInvoke: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600 },
      },
    ],
  };
}

let clock = Date.now();
let iam: LocalIam;
let api: RunningS3Api;
let s3: S3Client;

beforeAll(async () => {
  const local = deployment();
  iam = new LocalIam(local, silentLogger);
  api = await startS3Api({ iam, buckets: local.buckets, host: '127.0.0.1', lifecycleSweepMs: 60_000, log: silentLogger, objects: new BucketObjects(local.buckets, () => clock) });
  const credentials = iam.credentialsFor(WRITER);
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: api.endpoint,
    credentials: { accessKeyId: credentials.AWS_ACCESS_KEY_ID, secretAccessKey: credentials.AWS_SECRET_ACCESS_KEY, sessionToken: credentials.AWS_SESSION_TOKEN },
  });
});

afterAll(async () => {
  s3.destroy();
  await api.stop();
});

beforeEach(() => {
  clock = Date.now();
});

const put = (Key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET.name, Key, Body: body, ContentType: 'application/json' }));

describe('the local S3', () => {
  it('stores, reads, describes and deletes an object for a function whose role allows it', async () => {
    await put('results/t/a.json', '{"a":1}');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET.name, Key: 'results/t/a.json' }));
    expect(await got.Body!.transformToString()).toBe('{"a":1}');
    expect(got.ContentType).toBe('application/json');
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET.name, Key: 'results/t/a.json' }));
    expect(head.ContentLength).toBe(7);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET.name, Key: 'results/t/a.json' }));
    await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET.name, Key: 'results/t/a.json' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET.name, Key: 'results/t/a.json' }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('refuses with AccessDenied what the role does not grant (reading uploads/)', async () => {
    await put('uploads/t/u1', 'data');
    await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET.name, Key: 'uploads/t/u1' }))).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  });

  it('refuses a request signed with unknown credentials', async () => {
    const stranger = new S3Client({ region: 'us-east-1', endpoint: api.endpoint, credentials: { accessKeyId: 'ASIAUNKNOWN', secretAccessKey: 'x', sessionToken: 'y' } });
    await expect(stranger.send(new GetObjectCommand({ Bucket: BUCKET.name, Key: 'results/x' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    stranger.destroy();
  });

  it('serves a presigned GET URL to a plain HTTP client, with CORS headers for a browser origin', async () => {
    await put('results/t/big.json', '"hello"');
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET.name, Key: 'results/t/big.json' }), { expiresIn: 60 });
    const response = await fetch(url, { headers: { origin: 'http://127.0.0.1:9999' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('"hello"');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('refuses a presigned URL whose key or signature was changed', async () => {
    await put('results/t/mine.json', '1');
    await put('results/u/theirs.json', '2');
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET.name, Key: 'results/t/mine.json' }), { expiresIn: 60 });
    const otherKey = await fetch(url.replace('results/t/mine.json', 'results/u/theirs.json'));
    expect(otherKey.status).toBe(403);
    expect(await otherKey.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    const forged = await fetch(url.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000'));
    expect(forged.status).toBe(403);
  });

  it('refuses a presigned URL once it has expired', async () => {
    await put('results/t/short.json', '1');
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET.name, Key: 'results/t/short.json' }), { expiresIn: 1 });
    expect((await fetch(url)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toMatch(/<Code>AccessDenied<\/Code><Message>Request has expired/);
  });

  it('takes an upload through a presigned PUT signed for its exact size, and refuses another size', async () => {
    const command = new PutObjectCommand({ Bucket: BUCKET.name, Key: 'uploads/t/u2', ContentLength: 5 });
    const url = await getSignedUrl(s3, command, { expiresIn: 60, signableHeaders: new Set(['content-length']) });
    expect((await fetch(url, { method: 'PUT', body: 'hello' })).status).toBe(200);
    expect((await fetch(url, { method: 'PUT', body: 'hello, more' })).status).toBe(403);
    expect(api.objects.get(BUCKET.name, 'uploads/t/u2')?.body.toString()).toBe('hello');
  });

  it('answers a browser preflight for a PUT with the bucket\'s CORS rule, and refuses a method the rule does not allow', async () => {
    const preflight = (method: string) =>
      fetch(`${api.endpoint}/${BUCKET.name}/uploads/t/u3`, {
        method: 'OPTIONS',
        headers: { origin: 'http://example.test', 'access-control-request-method': method, 'access-control-request-headers': 'content-type' },
      });
    const allowed = await preflight('PUT');
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('PUT');
    expect((await preflight('DELETE')).status).toBe(403);
  });

  it('answers a malformed path with InvalidURI, not a failure', async () => {
    const response = await fetch(`${api.endpoint}/${BUCKET.name}/results/%E0%A4%A`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('<Code>InvalidURI</Code>');
  });

  it('expires objects by the bucket\'s lifecycle rules, each prefix on its own schedule', async () => {
    await put('results/t/old.json', '1');
    await put('uploads/t/old', '1');
    clock += 2 * 86_400_000;
    expect(api.objects.sweep()).toBeGreaterThan(0);
    expect(api.objects.get(BUCKET.name, 'uploads/t/old')).toBeUndefined();
    expect(api.objects.get(BUCKET.name, 'results/t/old.json')).toBeDefined();
    clock += 6 * 86_400_000;
    await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET.name, Key: 'results/t/old.json' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });
});
