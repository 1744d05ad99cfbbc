/**
 * The results bucket as the real program declares it (Pulumi mocks): private,
 * encrypted, TLS only, expiring with the requests, and reached only by the
 * functions that declare it, each with exactly its variables.
 */
import { RESULTS_BUCKET } from '../../functions/core/cloud-shapes';
import { FUNCTION_NAMES, hasCapability } from '../../functions/core/function-declarations';
import { ENV } from '../../functions/core/runtime-env';
import { runWithDefaults, unwrapSecret, type ProgramRun } from './pulumi-program';

const T = {
  bucket: 'aws:s3/bucket:Bucket',
  publicAccess: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  encryption: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  lifecycle: 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  policy: 'aws:s3/bucketPolicy:BucketPolicy',
  cors: 'aws:s3/bucketCorsConfiguration:BucketCorsConfiguration',
  ownership: 'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
  fn: 'aws:lambda/function:Function',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
} as const;

const BUCKET = 'streamer-results-4f3e2d1';

let run: ProgramRun;

beforeAll(async () => {
  run = await runWithDefaults();
});

describe('the results bucket', () => {
  it('is one bucket, exported by name', () => {
    expect(run.ofType(T.bucket)).toHaveLength(1);
    expect(run.outputs.resultsBucketName).toBe(BUCKET);
  });

  it('blocks every kind of public access', () => {
    expect(run.named(T.publicAccess, 'streamer-results').inputs).toEqual(
      expect.objectContaining({ bucket: BUCKET, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }),
    );
    expect(run.named(T.ownership, 'streamer-results').inputs.rule).toEqual({ objectOwnership: 'BucketOwnerEnforced' });
  });

  it('encrypts objects at rest by default', () => {
    const [rule] = run.named(T.encryption, 'streamer-results').inputs.rules;
    expect(rule.applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: 'AES256' });
  });

  it('refuses every request not made over TLS, for the bucket and its objects', () => {
    const policy = JSON.parse(run.named(T.policy, 'streamer-results').inputs.policy) as { Statement: Record<string, unknown>[] };
    expect(policy.Statement).toEqual([
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
  });

  it('expires results with their request (requestTtlDays) and uploads after a day', async () => {
    const rules = run.named(T.lifecycle, 'streamer-results').inputs.rules as { id: string; filter: { prefix?: string }; expiration?: { days: number } }[];
    expect(rules.find((r) => r.id === 'expire-results')).toMatchObject({ filter: { prefix: RESULTS_BUCKET.resultsPrefix }, expiration: { days: 7 } });
    expect(rules.find((r) => r.id === 'expire-uploads')).toMatchObject({ filter: { prefix: RESULTS_BUCKET.uploadsPrefix }, expiration: { days: 1 } });
    const shorter = await runWithDefaults({ requestTtlDays: '2' });
    const shorterRules = shorter.named(T.lifecycle, 'streamer-results').inputs.rules as { id: string; expiration?: { days: number } }[];
    expect(shorterRules.find((r) => r.id === 'expire-results')?.expiration).toEqual({ days: 2 });
  });

  it('lets browsers of any origin use a presigned URL for GET and PUT only', () => {
    const [rule] = run.named(T.cors, 'streamer-results').inputs.corsRules;
    expect(rule.allowedMethods).toEqual(['GET', 'HEAD', 'PUT']);
    expect(rule.allowedOrigins).toEqual(['*']);
  });

  it.each(FUNCTION_NAMES)('gives %s the bucket variables exactly when it declares the bucket', (fn) => {
    const variables = unwrapSecret(run.named(T.fn, `streamer-${fn}`).inputs.environment).value as { variables: Record<string, string> };
    if (hasCapability(fn, 'resultsBucket')) {
      expect(variables.variables[ENV.resultsBucket]).toBe(BUCKET);
      expect(variables.variables[ENV.objectUrlTtlSeconds]).toBe(String(RESULTS_BUCKET.objectUrlTtlSeconds));
    } else {
      expect(variables.variables[ENV.resultsBucket]).toBeUndefined();
      const policy = run.named(T.rolePolicy, `streamer-${fn}`).inputs.policy as string;
      expect(policy).not.toContain('s3:');
    }
  });
});
