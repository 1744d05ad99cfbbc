/**
 * The bootstrap of one Lambda container (bundled to
 * `dist/local/lambda-container.js`, started by `lambda-containers.ts` as a
 * worker thread whose `process.env` is exactly the function's environment).
 *
 * It does what Lambda's Node.js runtime interface client does: load the
 * handler's module once (the init phase of a cold start), then serve one
 * invocation at a time, building each invocation's `Context` here, inside
 * the container, so `getRemainingTimeInMillis` reads the container's clock
 * against the host's deadline. Failures are reported as Lambda's
 * `{ errorType, errorMessage, trace }`. An uncaught exception or
 * `process.exit` ends the thread; the host sees the exit and reports
 * `Runtime.ExitError`, as Lambda does when the runtime process dies.
 */
import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { type ContainerIdentity, type ContainerMessage, errorPayload, type InvokeMessage } from './lambda-container-protocol';

type Handler = (event: unknown, context: Context, callback?: (error?: unknown, result?: unknown) => void) => unknown;

const identity = workerData as ContainerIdentity;
const port = parentPort;
if (!port) throw new Error('lambda-container.js runs only as a worker thread started by the local runtime');
const post = (message: ContainerMessage): void => port.postMessage(message);
// Lambda gives each execution environment one log stream, named by date, version and instance.
const logStreamName = `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${randomUUID().replace(/-/g, '')}`;

const threadId = osThreadId();
yieldToTheServices(identity.niceness);
const handler = initialise();
if (handler) port.on('message', (message: InvokeMessage) => void invoke(handler, message));

/** The init phase: loads the module (its top-level code runs now, once per container). */
function initialise(): Handler | undefined {
  const began = performance.now();
  let loaded: Record<string, unknown>;
  try {
    // The bundles are CommonJS, as Lambda's nodejs runtime loads `index.js`; require (not import)
    // also keeps esbuild from inlining the function into this bootstrap.
    loaded = require(identity.codeFile) as Record<string, unknown>;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(identity.codeFile);
    const payload = errorPayload(error);
    post({ type: 'init-failed', error: missing ? { ...payload, errorType: 'Runtime.ImportModuleError', errorMessage: `Error: ${payload.errorMessage}` } : payload });
    return undefined;
  }
  const exported = loaded[identity.exportName];
  if (typeof exported !== 'function') {
    post({ type: 'init-failed', error: { errorType: 'Runtime.HandlerNotFound', errorMessage: `${identity.handlerSetting} is undefined or not exported`, trace: [] } });
    return undefined;
  }
  post({ type: 'ready', initMs: performance.now() - began, osThreadId: threadId });
  return exported as Handler;
}

/**
 * Lowers this thread's scheduling priority before the bundle loads, so a cold
 * start already yields to the runtime's main thread (the emulated services).
 * Linux applies niceness per thread (setpriority on a thread id); where it
 * cannot be set the container runs as before.
 */
function yieldToTheServices(niceness: number): void {
  if (niceness <= 0 || threadId === undefined) return;
  try {
    setPriority(threadId, niceness);
  } catch {
    // Not permitted or not supported here: an equal share is slower under load, not wrong.
  }
}

/** `/proc/thread-self` names this thread (`<pid>/task/<tid>`) on Linux; elsewhere there is no such link. */
function osThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

async function invoke(fn: Handler, message: InvokeMessage): Promise<void> {
  const context = createContext(message.requestId, message.deadline);
  let result: unknown;
  try {
    result = await callHandler(fn, message.event, context);
  } catch (error) {
    return post({ type: 'error', requestId: message.requestId, error: errorPayload(error) });
  }
  let json: string | undefined;
  try {
    // Lambda hands the caller the JSON serialisation of the result, never the object itself.
    json = JSON.stringify(result);
  } catch (error) {
    return post({ type: 'error', requestId: message.requestId, error: errorPayload(error) });
  }
  post({ type: 'result', requestId: message.requestId, json });
}

/** Supports both async handlers and the older callback style, as the Node.js runtime does. */
function callHandler(fn: Handler, event: unknown, context: Context): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (error?: unknown, result?: unknown): void => (error ? reject(error) : resolve(result));
    try {
      const returned = fn(event, context, callback);
      if (returned !== undefined || fn.length < 3) Promise.resolve(returned).then(resolve, reject);
    } catch (error) {
      reject(error);
    }
  });
}

function createContext(requestId: string, deadline: number): Context {
  const notSupported = (): never => {
    throw new Error('context.done/succeed/fail are not supported: return a value or a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: identity.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: identity.functionArn,
    memoryLimitInMB: String(identity.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${identity.functionName}`,
    logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: notSupported,
    fail: notSupported,
    succeed: notSupported,
  };
}
