/**
 * The requests table's stream → the processor, configured exactly as
 * `REQUEST_STREAM_MAPPING` in `functions/core/cloud-shapes.ts` says (the
 * local runtime's stream poller reads the same settings). Batches that still
 * fail after the retries land in a dead-letter queue instead of blocking the
 * shard.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { REQUEST_STREAM_MAPPING, type StreamMappingShape } from '../functions/core/cloud-shapes';

/** SQS keeps a message at most 14 days: the longest time to inspect a failed batch. */
const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 60 * 60;

/** Event source mapping arguments for a shape (everything but the source, target and failure destination). */
export function streamMappingArgs(shape: StreamMappingShape): Omit<aws.lambda.EventSourceMappingArgs, 'functionName'> {
  return {
    batchSize: shape.batchSize,
    maximumBatchingWindowInSeconds: shape.maximumBatchingWindowSeconds,
    startingPosition: shape.startingPosition,
    bisectBatchOnFunctionError: shape.bisectBatchOnFunctionError,
    maximumRetryAttempts: shape.maximumRetryAttempts,
    maximumRecordAgeInSeconds: shape.maximumRecordAgeSeconds,
    parallelizationFactor: shape.parallelizationFactor,
    functionResponseTypes: [...shape.functionResponseTypes],
    filterCriteria: { filters: shape.filterPatterns.map((pattern) => ({ pattern: JSON.stringify(pattern) })) },
  };
}

export interface StreamWiringArgs {
  readonly requestsTable: aws.dynamodb.Table;
  readonly processor: aws.lambda.Function;
  readonly processorRole: aws.iam.Role;
}

export class StreamWiring extends pulumi.ComponentResource {
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly mapping: aws.lambda.EventSourceMapping;

  constructor(name: string, args: StreamWiringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('streamer:infra:StreamWiring', name, {}, opts);
    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-stream-dlq`,
      { messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS, sqsManagedSseEnabled: true },
      { parent: this },
    );
    // Lambda polls the stream and sends failed batches with the function's own role.
    const streamAccess = new aws.iam.RolePolicy(
      `${name}-stream-access`,
      {
        role: args.processorRole.name,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'ReadRequestsStream',
              Effect: 'Allow',
              Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'],
              Resource: [args.requestsTable.streamArn],
            },
            { Sid: 'DeadLetter', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [this.deadLetterQueue.arn] },
          ],
        }),
      },
      { parent: this },
    );
    this.mapping = new aws.lambda.EventSourceMapping(
      `${name}-requests-stream`,
      {
        ...streamMappingArgs(REQUEST_STREAM_MAPPING),
        eventSourceArn: args.requestsTable.streamArn,
        functionName: args.processor.arn,
        destinationConfig: { onFailure: { destinationArn: this.deadLetterQueue.arn } },
      },
      // AWS checks the role's stream permissions when the mapping is created.
      { parent: this, dependsOn: [streamAccess] },
    );
    this.registerOutputs({ deadLetterQueueUrl: this.deadLetterQueue.url, mappingUuid: this.mapping.uuid });
  }
}
