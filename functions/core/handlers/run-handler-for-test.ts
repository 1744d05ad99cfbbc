/**
 * The test kit: run a handler in one line with a recording progress
 * reporter, the same validation and error mapping as production.
 *
 * @example
 * const run = await runHandler(generateReport, { rows: 10, stepDelayMs: 0 });
 * expect(run.outcome.kind).toBe('result');
 * expect(run.progress.length).toBeGreaterThanOrEqual(5);
 *
 * // A handler that reads an upload:
 * const digest = await runHandler(digestUpload, { file: { uploadId: ID } }, { uploads: { [ID]: 'hello' } });
 */
import { StreamerError, toStreamerError } from '../errors';
import type { Identity } from '../identity';
import type { JsonObject } from '../protocol/messages';
import { executeHandler, type HandlerOutcome } from '../lifecycle/execute-handler';
import type { AnyHandler, HandlerDefinition } from './define-handler';
import { validatePayload } from './validate-payload';
import { uploadReader } from './uploads';
import { uploadObjectKey } from '../large-results/object-keys';
import type { ObjectStore } from '../stores/object-store';
import type * as z from 'zod';
import type { JsonValue } from '../protocol/messages';

export interface HandlerTestRun {
  readonly outcome: HandlerOutcome;
  /** Every report the handler made, unbatched, in order. */
  readonly progress: Array<{ progress: number; message?: string; metadata?: JsonObject }>;
}

export interface RunHandlerOptions {
  readonly identity?: Identity;
  readonly signal?: AbortSignal;
  readonly budgetMs?: number;
  readonly checkpoint?: JsonValue;
  readonly attempt?: number;
  /** What `ctx.uploads` reads: upload id → bytes (or text), as if the caller had uploaded them. */
  readonly uploads?: Readonly<Record<string, Uint8Array | string>>;
}

export async function runHandler<S extends z.ZodType, R extends JsonValue>(
  handler: HandlerDefinition<S, R>,
  payload: unknown,
  options: RunHandlerOptions = {},
): Promise<HandlerTestRun> {
  const identity = options.identity ?? { userId: 'test-user', tenantId: 'test-tenant', permissions: [] };
  const progress: HandlerTestRun['progress'] = [];
  const erased = handler as unknown as AnyHandler;
  let validated: unknown;
  try {
    validated = await validatePayload(erased, payload, identity);
  } catch (error) {
    return { outcome: { kind: 'error', error: toStreamerError(error) as StreamerError }, progress };
  }
  const outcome = await executeHandler({
    handler: erased,
    payload: validated,
    identity,
    progress: { report: (p, message, metadata) => progress.push({ progress: p, message, metadata }) },
    requestId: 'test-request',
    attempt: options.attempt ?? 1,
    checkpoint: options.checkpoint,
    budgetMs: options.budgetMs ?? 60_000,
    externalSignal: options.signal,
    now: Date.now,
    ...(options.uploads && { uploads: uploadReader(uploadsFromMap(options.uploads, identity), identity) }),
  });
  return { outcome, progress };
}

/** The test kit's uploads: the caller's own, from a map (reads only; nothing is signed). */
function uploadsFromMap(uploads: Readonly<Record<string, Uint8Array | string>>, owner: Identity): ObjectStore {
  const byKey = new Map(Object.entries(uploads).map(([id, data]) => [uploadObjectKey(owner, id), typeof data === 'string' ? new TextEncoder().encode(data) : data]));
  const unsupported = async (): Promise<never> => {
    throw new StreamerError('INTERNAL_ERROR', 'The test kit only reads uploads');
  };
  return {
    put: unsupported,
    signGet: unsupported,
    signPut: unsupported,
    read: async (key, maxBytes) => {
      const bytes = byKey.get(key);
      if (bytes === undefined) return undefined;
      return bytes.length > maxBytes ? 'too-large' : bytes;
    },
  };
}
