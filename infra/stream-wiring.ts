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

/**
 * The queue that keeps stream batches the processor failed on after every
 * retry. Created before the functions: the processor's role grants sending to it.
 */
export class StreamDeadLetters extends pulumi.ComponentResource {
  readonly queue: aws.sqs.Queue;

  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super('streamer:infra:StreamDeadLetters', name, {}, opts);
    this.queue = new aws.sqs.Queue(
      `${name}-stream-dlq`,
      { messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS, sqsManagedSseEnabled: true },
      { parent: this },
    );
    this.registerOutputs({ url: this.queue.url });
  }
}

export interface StreamWiringArgs {
  readonly requestsTable: aws.dynamodb.Table;
  /** Its role holds the stream and dead-letter grants (its `requestsStream` capability). */
  readonly processor: aws.lambda.Function;
  readonly deadLetterQueue: aws.sqs.Queue;
}

export class StreamWiring extends pulumi.ComponentResource {
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly mapping: aws.lambda.EventSourceMapping;

  constructor(name: string, args: StreamWiringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('streamer:infra:StreamWiring', name, {}, opts);
    this.deadLetterQueue = args.deadLetterQueue;
    // AWS checks the role's stream permissions when the mapping is created: the function depends on its policy.
    this.mapping = new aws.lambda.EventSourceMapping(
      `${name}-requests-stream`,
      {
        ...streamMappingArgs(REQUEST_STREAM_MAPPING),
        eventSourceArn: args.requestsTable.streamArn,
        functionName: args.processor.arn,
        destinationConfig: { onFailure: { destinationArn: this.deadLetterQueue.arn } },
      },
      { parent: this },
    );
    this.registerOutputs({ mappingUuid: this.mapping.uuid });
  }
}
