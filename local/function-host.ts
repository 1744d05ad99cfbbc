/**
 * Runs the bundled Lambda functions (`dist/<fn>/index.js`, the very files
 * Pulumi deploys) in this process, the way the Lambda service would: one
 * module instance per function (a warm container shared by every
 * invocation), a Lambda `Context` per invocation whose remaining time counts
 * down from the function's timeout, errors reported as Lambda's
 * `{ errorType, errorMessage, trace }`, and asynchronous (`Event`)
 * invocations queued behind a concurrency cap and retried like Lambda's
 * defaults.
 *
 * Unlike Lambda, a timed-out invocation is reported as failed but its code
 * cannot be frozen: it keeps running in the background until it settles.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { FUNCTION_DEFAULTS } from '../functions/core/cloud-shapes';
import { installInvokeStore, type LocalInvokeStore } from './invoke-store';
import { describeError, type Logger, silentLogger } from './log';

export const LOCAL_FUNCTIONS = ['connect', 'disconnect', 'router', 'processor'] as const;
export type LocalFunctionName = (typeof LOCAL_FUNCTIONS)[number];

export interface LocalFunctionConfig {
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

/**
 * Timeouts and memory the local runtime gives each function. They mirror the
 * stack's defaults; the deployed values come from stack config.
 */
export const LOCAL_FUNCTION_CONFIG: Readonly<Record<LocalFunctionName, LocalFunctionConfig>> = FUNCTION_DEFAULTS;

export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_FUNCTION_PREFIX = 'streamer-local-';

export function physicalFunctionName(fn: LocalFunctionName): string {
  return `${LOCAL_FUNCTION_PREFIX}${fn}`;
}

export function functionArn(fn: LocalFunctionName, region: string): string {
  return `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${physicalFunctionName(fn)}`;
}

/** The error document Lambda's Node.js runtime returns for a failed invocation. */
export interface LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

export type InvocationOutcome =
  | { readonly ok: true; readonly result: unknown; readonly requestId: string }
  | { readonly ok: false; readonly error: LambdaErrorPayload; readonly requestId: string };

type LambdaHandler = (event: unknown, context: Context, callback?: (error?: unknown, result?: unknown) => void) => unknown;

export interface AsyncRetryPolicy {
  /** Lambda's default for asynchronous invocations is 2 retries. */
  readonly maximumRetryAttempts: number;
  /** Delay before each retry; Lambda waits about 1 minute, then 2 minutes. */
  readonly delaysMs: readonly number[];
}

export const LAMBDA_DEFAULT_ASYNC_RETRY: AsyncRetryPolicy = { maximumRetryAttempts: 2, delaysMs: [60_000, 120_000] };

export interface FunctionHostOptions {
  /** Folder holding `<fn>/index.js` for each function (the build's `dist/`). */
  readonly functionsDir: string;
  readonly region: string;
  /** Most asynchronous invocations running at once; the rest wait in Lambda's internal queue. */
  readonly asyncConcurrency?: number;
  readonly asyncRetry?: AsyncRetryPolicy;
  readonly config?: Partial<Record<LocalFunctionName, LocalFunctionConfig>>;
  readonly log?: Logger;
}

export class FunctionNotBuiltError extends Error {
  override readonly name = 'FunctionNotBuiltError';
}

interface QueuedEvent {
  readonly fn: LocalFunctionName;
  readonly event: unknown;
  readonly attempt: number;
}

export class FunctionHost {
  private readonly handlers = new Map<LocalFunctionName, LambdaHandler>();
  private invokeStore: LocalInvokeStore | undefined;
  private readonly asyncQueue: QueuedEvent[] = [];
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private asyncRunning = 0;
  private stopped = false;
  private readonly log: Logger;
  private readonly asyncConcurrency: number;
  private readonly asyncRetry: AsyncRetryPolicy;

  constructor(private readonly options: FunctionHostOptions) {
    this.log = options.log ?? silentLogger;
    this.asyncConcurrency = options.asyncConcurrency ?? 100;
    this.asyncRetry = options.asyncRetry ?? LAMBDA_DEFAULT_ASYNC_RETRY;
  }

  /** Loads every function module (a cold start), after the environment is in place. */
  load(): void {
    // Before any bundle runs: Powertools and the AWS SDK look the store up when they first need it.
    this.invokeStore = installInvokeStore();
    for (const fn of LOCAL_FUNCTIONS) {
      const file = join(this.options.functionsDir, fn, 'index.js');
      if (!existsSync(file)) {
        throw new FunctionNotBuiltError(
          `${file} is missing: build the functions first (node scripts/build.mjs --functions-only)`,
        );
      }
      // The bundles are CommonJS; require (not import) keeps esbuild from inlining them into this bundle.
      const loaded = require(file) as { handler?: unknown };
      if (typeof loaded.handler !== 'function') throw new FunctionNotBuiltError(`${file} exports no handler function`);
      this.handlers.set(fn, loaded.handler as LambdaHandler);
    }
  }

  configOf(fn: LocalFunctionName): LocalFunctionConfig {
    return this.options.config?.[fn] ?? LOCAL_FUNCTION_CONFIG[fn];
  }

  /** Maps an Invoke API `FunctionName` (name, partial or full ARN, optional qualifier) to a function. */
  resolve(functionName: string): LocalFunctionName | undefined {
    const parts = functionName.split(':');
    // arn:aws:lambda:region:account:function:name[:qualifier] | account:function:name | name[:qualifier]
    const functionIndex = parts.indexOf('function');
    const name = functionIndex >= 0 ? parts[functionIndex + 1] : parts[0];
    if (!name?.startsWith(LOCAL_FUNCTION_PREFIX)) return undefined;
    const fn = name.slice(LOCAL_FUNCTION_PREFIX.length);
    return (LOCAL_FUNCTIONS as readonly string[]).includes(fn) ? (fn as LocalFunctionName) : undefined;
  }

  /** A synchronous (`RequestResponse`) invocation. */
  invoke(fn: LocalFunctionName, event: unknown): Promise<InvocationOutcome> {
    const run = this.run(fn, event);
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return run;
  }

  /** An asynchronous (`Event`) invocation: accepted at once, run when a slot is free. */
  invokeAsync(fn: LocalFunctionName, event: unknown): void {
    if (this.stopped) return;
    this.asyncQueue.push({ fn, event, attempt: 1 });
    this.pumpAsyncQueue();
  }

  /** Resolves once nothing is running or queued (tests). Retries waiting on a timer do not count. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.asyncQueue.length > 0) {
      await Promise.allSettled([...this.inFlight]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Stops accepting asynchronous work and waits (bounded) for running invocations. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    this.asyncQueue.length = 0;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    await Promise.race([Promise.allSettled([...this.inFlight]), delay(graceMs)]);
  }

  private pumpAsyncQueue(): void {
    while (!this.stopped && this.asyncRunning < this.asyncConcurrency && this.asyncQueue.length > 0) {
      const next = this.asyncQueue.shift()!;
      this.asyncRunning += 1;
      const run = this.run(next.fn, next.event).then((outcome) => {
        if (!outcome.ok) this.scheduleAsyncRetry(next, outcome.error);
      });
      this.inFlight.add(run);
      void run.finally(() => {
        this.inFlight.delete(run);
        this.asyncRunning -= 1;
        this.pumpAsyncQueue();
      });
    }
  }

  private scheduleAsyncRetry(failed: QueuedEvent, error: LambdaErrorPayload): void {
    if (this.stopped) return;
    if (failed.attempt > this.asyncRetry.maximumRetryAttempts) {
      this.log.warn(`${physicalFunctionName(failed.fn)} async invocation failed ${failed.attempt} times; event discarded (${error.errorType}: ${error.errorMessage})`);
      return;
    }
    const wait = this.asyncRetry.delaysMs[failed.attempt - 1] ?? this.asyncRetry.delaysMs.at(-1) ?? 0;
    this.log.warn(`${physicalFunctionName(failed.fn)} async invocation failed (${error.errorType}: ${error.errorMessage}); Lambda retries in ${Math.round(wait / 1000)} s`);
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (this.stopped) return;
      this.asyncQueue.push({ ...failed, attempt: failed.attempt + 1 });
      this.pumpAsyncQueue();
    }, wait);
    timer.unref();
    this.retryTimers.add(timer);
  }

  private async run(fn: LocalFunctionName, event: unknown): Promise<InvocationOutcome> {
    const requestId = randomUUID();
    const handler = this.handlers.get(fn);
    if (!handler) {
      return { ok: false, requestId, error: errorPayload(new FunctionNotBuiltError(`${fn} is not loaded`)) };
    }
    const { timeoutSeconds } = this.configOf(fn);
    const deadline = Date.now() + timeoutSeconds * 1000;
    const context = this.createContext(fn, requestId, deadline);
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<InvocationOutcome>((resolve) => {
      timer = setTimeout(() => {
        resolve({
          ok: false,
          requestId,
          error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`, trace: [] },
        });
      }, timeoutSeconds * 1000);
    });
    try {
      const invocation = this.invokeStore
        ? this.invokeStore.runInvocation(requestId, () => callHandler(handler, event, context))
        : callHandler(handler, event, context);
      const outcome = await Promise.race([invocation.then(
        (result): InvocationOutcome => ({ ok: true, result, requestId }),
        (error: unknown): InvocationOutcome => ({ ok: false, requestId, error: errorPayload(error) }),
      ), timedOut]);
      const took = Date.now() - started;
      if (outcome.ok) this.log.debug(`${physicalFunctionName(fn)} ${requestId} ok in ${took} ms`);
      else this.log.warn(`${physicalFunctionName(fn)} ${requestId} failed in ${took} ms: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
      return outcome;
    } finally {
      clearTimeout(timer);
    }
  }

  private createContext(fn: LocalFunctionName, requestId: string, deadline: number): Context {
    const name = physicalFunctionName(fn);
    const notSupported = (): never => {
      throw new Error('context.done/succeed/fail are not supported: return a value or a promise');
    };
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: functionArn(fn, this.options.region),
      memoryLimitInMB: String(this.configOf(fn).memoryMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: `local/[$LATEST]${requestId.replace(/-/g, '')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: notSupported,
      fail: notSupported,
      succeed: notSupported,
    };
  }
}

/** Supports both async handlers and the older callback style, as the Node.js runtime does. */
function callHandler(handler: LambdaHandler, event: unknown, context: Context): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (error?: unknown, result?: unknown): void => (error ? reject(error) : resolve(result));
    try {
      const returned = handler(event, context, callback);
      if (returned !== undefined || handler.length < 3) Promise.resolve(returned).then(resolve, reject);
    } catch (error) {
      reject(error);
    }
  });
}

export function errorPayload(error: unknown): LambdaErrorPayload {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    };
  }
  return { errorType: 'Error', errorMessage: typeof error === 'string' ? error : JSON.stringify(error), trace: [] };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
