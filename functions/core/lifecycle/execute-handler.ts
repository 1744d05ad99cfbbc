/**
 * Runs one handler call with its abort signal and time budget, and turns
 * whatever happens into one outcome: a JSON result, a continuation, or a
 * `StreamerError`. Shared by the sync path (router) and the worker.
 */
import { StreamerError, toStreamerError } from '../errors';
import { continuation, isContinuation, type AnyHandler, type ProgressReporter } from '../handlers/define-handler';
import type { Identity } from '../identity';
import type { JsonValue } from '../protocol/messages';
import { noUploads, type UploadReader } from '../handlers/uploads';

export type HandlerOutcome =
  | { readonly kind: 'result'; readonly data: JsonValue }
  | { readonly kind: 'continuation'; readonly state: JsonValue }
  | { readonly kind: 'error'; readonly error: StreamerError };

export interface ExecuteInput {
  readonly handler: AnyHandler;
  readonly payload: unknown;
  readonly identity: Identity;
  readonly progress: ProgressReporter;
  readonly requestId?: string;
  readonly attempt: number;
  readonly checkpoint?: JsonValue;
  /** Time budget of this run in ms; the signal aborts with `TIMEOUT` when it runs out. */
  readonly budgetMs: number;
  /** Aborts the run from outside (cancellation, lost lease); its reason should be a `StreamerError`. */
  readonly externalSignal?: AbortSignal;
  /** How long a handler may take to settle after its signal aborted, before we stop waiting. */
  readonly abortGraceMs?: number;
  readonly now: () => number;
  /** Delivers a broadcast to the caller's user or tenant; absent where nothing can be sent (tests). */
  readonly broadcast?: (scope: 'user' | 'tenant', topic: string, data: JsonValue) => Promise<number>;
  /** The caller's uploads; absent where there is no bucket (tests). */
  readonly uploads?: UploadReader;
}

/** Copies the result through JSON so what we store and send is exactly what a client will parse. */
function toJson(value: unknown): JsonValue {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new StreamerError('INTERNAL_ERROR', 'The handler returned a value that is not JSON', { retryable: false, cause: error });
  }
  if (text === undefined) {
    throw new StreamerError('INTERNAL_ERROR', 'The handler returned a value that is not JSON', { retryable: false });
  }
  return JSON.parse(text) as JsonValue;
}

export async function executeHandler(input: ExecuteInput): Promise<HandlerOutcome> {
  const controller = new AbortController();
  const startedAt = input.now();
  const deadline = startedAt + input.budgetMs;
  const abortWith = (reason: StreamerError): void => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const timer = setTimeout(
    () => abortWith(new StreamerError('TIMEOUT', `The handler ran past its time budget of ${input.budgetMs} ms`)),
    Math.max(0, input.budgetMs),
  );
  const onExternalAbort = (): void => abortWith(toStreamerError(input.externalSignal?.reason));
  if (input.externalSignal?.aborted) onExternalAbort();
  input.externalSignal?.addEventListener('abort', onExternalAbort, { once: true });

  // Once aborted, wait at most the grace period for the handler to notice, then give up on it.
  let stopWaiting: (() => void) | undefined;
  const abandoned = new Promise<'abandoned'>((resolve) => {
    const onAbort = (): void => {
      const grace = setTimeout(() => resolve('abandoned'), input.abortGraceMs ?? 2000);
      stopWaiting = () => clearTimeout(grace);
    };
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
  });

  try {
    const running = Promise.resolve().then(() =>
      input.handler.process({
        payload: input.payload,
        progress: input.progress,
        signal: controller.signal,
        identity: input.identity,
        requestId: input.requestId,
        attempt: input.attempt,
        checkpoint: input.checkpoint,
        remainingTimeMs: () => Math.max(0, deadline - input.now()),
        continueWith: (state: JsonValue) => continuation(state),
        broadcast: async (scope, topic, data) => (input.broadcast ? input.broadcast(scope, topic, toJson(data)) : 0),
        uploads: input.uploads ?? noUploads,
      }),
    );
    const settled = await Promise.race([running.then((value) => ({ value })), abandoned]);
    if (controller.signal.aborted) {
      // Cancellation, timeout or a lost lease wins over whatever the handler returned late.
      return { kind: 'error', error: toStreamerError(controller.signal.reason) };
    }
    if (settled === 'abandoned') return { kind: 'error', error: toStreamerError(controller.signal.reason) };
    if (isContinuation(settled.value)) return { kind: 'continuation', state: toJson(settled.value.state) };
    return { kind: 'result', data: toJson(settled.value) };
  } catch (error) {
    if (controller.signal.aborted) return { kind: 'error', error: toStreamerError(controller.signal.reason) };
    return { kind: 'error', error: toStreamerError(error) };
  } finally {
    clearTimeout(timer);
    stopWaiting?.();
    input.externalSignal?.removeEventListener('abort', onExternalAbort);
  }
}
