/**
 * Hands work to a worker that runs it concurrently, so the caller returns at
 * once and a long job never blocks anything. On AWS the worker is the
 * processor function itself, invoked asynchronously (Lambda queues the
 * event durably). Two events reach it:
 *
 * - `streamer.run` from the stream consumer, for a request it has already
 *   claimed (`run_id` names the claim);
 * - `streamer.claim` from the router right after it stored a request
 *   `queued` (direct dispatch): the worker claims the request itself and runs
 *   it in the same invocation, so the job starts without waiting for the
 *   stream and without a second hop. The stream stays the safety net: whoever
 *   claims first wins the conditional write, the other does nothing.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { uninstrumented, type InstrumentClient } from './observability';

/** Run a request the sender has claimed. */
export interface RunRequestEvent {
  readonly type: 'streamer.run';
  readonly requestId: string;
  readonly runId: string;
}

/** Claim a request the router has just stored `queued`, then run it (direct dispatch). */
export interface ClaimRequestEvent {
  readonly type: 'streamer.claim';
  readonly requestId: string;
}

/** Every event the worker accepts. */
export type WorkerEvent = RunRequestEvent | ClaimRequestEvent;

type Candidate = { readonly type?: unknown; readonly requestId?: unknown; readonly runId?: unknown } | null;

/** A non-empty string, as every id in these events is. */
const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

export function isRunRequestEvent(event: unknown): event is RunRequestEvent {
  const candidate = event as Candidate;
  return typeof candidate === 'object' && candidate !== null && candidate.type === 'streamer.run'
    && typeof candidate.requestId === 'string' && typeof candidate.runId === 'string';
}

export function isClaimRequestEvent(event: unknown): event is ClaimRequestEvent {
  const candidate = event as Candidate;
  return typeof candidate === 'object' && candidate !== null && candidate.type === 'streamer.claim' && isId(candidate.requestId);
}

export interface WorkDispatcher {
  dispatch(event: WorkerEvent): Promise<void>;
}

/**
 * How the Lambda client behaves. The router's direct dispatch runs before its
 * route response (the `ack`) leaves, and the stream starts the request anyway
 * when the invoke fails: one attempt with a short timeout, never retries that
 * would hold the `ack` back (or pile onto a throttled function).
 */
export interface DispatcherClientOptions {
  /** Attempts per invoke (the SDK's `maxAttempts`; its default is 3). */
  readonly maxAttempts?: number;
  /** Gives up on an invoke whose answer takes longer than this, in milliseconds. */
  readonly requestTimeoutMs?: number;
}

export class LambdaWorkDispatcher implements WorkDispatcher {
  constructor(private readonly lambda: LambdaClient, private readonly functionName: string) {}

  async dispatch(event: WorkerEvent): Promise<void> {
    const out = await this.lambda.send(
      new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }),
    );
    if (out.StatusCode !== 202) throw new Error(`Asynchronous invoke of ${this.functionName} answered ${out.StatusCode}`);
  }
}

export function lambdaWorkDispatcher(
  workerFunction: string,
  instrumentClient: InstrumentClient = uninstrumented,
  options: DispatcherClientOptions = {},
): WorkDispatcher {
  const client = new LambdaClient({
    ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
    ...(options.requestTimeoutMs !== undefined && {
      requestHandler: { requestTimeout: options.requestTimeoutMs, connectionTimeout: options.requestTimeoutMs },
    }),
  });
  return new LambdaWorkDispatcher(instrumentClient(client), workerFunction);
}
