/**
 * Hands a claimed request to a worker that runs it concurrently, so the
 * stream consumer returns at once and a long job never blocks the shard.
 * On AWS the worker is the processor function itself, invoked
 * asynchronously (Lambda queues the event durably).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { uninstrumented, type InstrumentClient } from './observability';

/** The worker invocation payload. */
export interface RunRequestEvent {
  readonly type: 'streamer.run';
  readonly requestId: string;
  readonly runId: string;
}

export function isRunRequestEvent(event: unknown): event is RunRequestEvent {
  const candidate = event as Partial<RunRequestEvent> | null;
  return typeof candidate === 'object' && candidate !== null && candidate.type === 'streamer.run'
    && typeof candidate.requestId === 'string' && typeof candidate.runId === 'string';
}

export interface WorkDispatcher {
  dispatch(event: RunRequestEvent): Promise<void>;
}

export class LambdaWorkDispatcher implements WorkDispatcher {
  constructor(private readonly lambda: LambdaClient, private readonly functionName: string) {}

  async dispatch(event: RunRequestEvent): Promise<void> {
    const out = await this.lambda.send(
      new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }),
    );
    if (out.StatusCode !== 202) throw new Error(`Asynchronous invoke of ${this.functionName} answered ${out.StatusCode}`);
  }
}

export function lambdaWorkDispatcher(workerFunction: string, instrumentClient: InstrumentClient = uninstrumented): WorkDispatcher {
  return new LambdaWorkDispatcher(instrumentClient(new LambdaClient({})), workerFunction);
}
