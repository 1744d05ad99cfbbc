/**
 * The results bucket (`RESULTS_BUCKET` in `functions/core/cloud-shapes.ts`):
 * results too large for one WebSocket message, fetched by clients through
 * short-lived presigned GET URLs, and inputs clients upload through presigned
 * PUT URLs. Private and encrypted: public access is blocked outright, the
 * bucket policy refuses any request not made over TLS, objects are encrypted
 * at rest (SSE-S3), and lifecycle rules delete results when their request
 * expires (`requestTtlDays`) and uploads after a day. Only the functions that
 * declare the `resultsBucket` capability are granted anything on it, per
 * key prefix (`infra/functions.ts`).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { RESULTS_BUCKET } from '../functions/core/cloud-shapes';

export interface ResultsBucketArgs {
  /** Results expire with their request: the stack's `requestTtlDays`. */
  readonly resultExpiryDays: number;
}

/** The lifecycle rules: each prefix expires on its own schedule (the local runtime applies the same rules). */
export function lifecycleRules(resultExpiryDays: number): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
  return [
    { id: 'expire-results', status: 'Enabled', filter: { prefix: RESULTS_BUCKET.resultsPrefix }, expiration: { days: resultExpiryDays } },
    { id: 'expire-uploads', status: 'Enabled', filter: { prefix: RESULTS_BUCKET.uploadsPrefix }, expiration: { days: RESULTS_BUCKET.uploadExpiryDays } },
    // An upload is one PUT, never multipart; anything left half-done goes the next day.
    { id: 'abort-incomplete-uploads', status: 'Enabled', filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
  ];
}

/**
 * Browsers fetch results and upload inputs straight from a page of any
 * origin; the presigned URL is the only credential (no cookies), so any
 * origin may use it, for the two methods it can be signed for.
 */
export const CORS_RULES: aws.types.input.s3.BucketCorsConfigurationCorsRule[] = [
  {
    allowedMethods: ['GET', 'HEAD', 'PUT'],
    allowedOrigins: ['*'],
    allowedHeaders: ['content-type', 'content-length'],
    exposeHeaders: ['content-length', 'etag'],
    maxAgeSeconds: 3600,
  },
];

export class ResultsBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;

  constructor(name: string, args: ResultsBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super('streamer:infra:ResultsBucket', name, {}, opts);
    const parent = { parent: this };
    const bucketName = `${name}-results`;
    // forceDestroy: the bucket holds only expiring copies (results are also the handler's output), so `pulumi destroy` may empty it.
    this.bucket = new aws.s3.Bucket(bucketName, { forceDestroy: true }, parent);
    const bucket = this.bucket.id;
    new aws.s3.BucketOwnershipControls(bucketName, { bucket, rule: { objectOwnership: 'BucketOwnerEnforced' } }, parent);
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      bucketName,
      { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      bucketName,
      { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, bucketKeyEnabled: true }] },
      parent,
    );
    new aws.s3.BucketLifecycleConfiguration(bucketName, { bucket, rules: lifecycleRules(args.resultExpiryDays) }, parent);
    new aws.s3.BucketCorsConfiguration(bucketName, { bucket, corsRules: CORS_RULES }, parent);
    new aws.s3.BucketPolicy(
      bucketName,
      {
        bucket,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [this.bucket.arn, pulumi.interpolate`${this.bucket.arn}/*`],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        }),
      },
      // S3 refuses a policy change while the public access block is being put in place.
      { parent: this, dependsOn: [publicAccess] },
    );
    this.registerOutputs({ bucketName: this.bucket.id });
  }

  /** The ARN of every object under a prefix of `RESULTS_BUCKET`, for IAM. */
  objectsArn(prefix: string): pulumi.Output<string> {
    return pulumi.interpolate`${this.bucket.arn}/${prefix}*`;
  }
}
