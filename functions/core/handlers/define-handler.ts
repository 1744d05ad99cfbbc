/**
 * The handler API: what an application developer writes.
 *
 * @example
 * export const echo = defineHandler({
 *   name: 'echo',
 *   payload: z.object({ text: z.string() }),
 *   estimatedDurationMs: 10,
 *   async process({ payload }) { return payload; },
 * });
 */
import type * as z from 'zod';
import type { Identity } from '../identity';
import type { JsonObject, JsonValue } from '../protocol/messages';

/** Sends progress to the caller; batched, never decreasing, fraction in [0, 1]. */
export interface ProgressReporter {
  report(progress: number, message?: string, metadata?: JsonObject): void;
}

const CONTINUATION = Symbol('streamer.continuation');

/** Returned by `ctx.continueWith(state)`: the request is re-queued and resumes with `ctx.checkpoint = state`. */
export interface Continuation {
  readonly [CONTINUATION]: true;
  readonly state: JsonValue;
}

export function isContinuation(value: unknown): value is Continuation {
  return typeof value === 'object' && value !== null && (value as Partial<Continuation>)[CONTINUATION] === true;
}

export function continuation(state: JsonValue): Continuation {
  return { [CONTINUATION]: true, state };
}

export interface HandlerContext<Payload> {
  /** The validated payload (the schema's output type). */
  readonly payload: Payload;
  readonly progress: ProgressReporter;
  /** Aborts on cancellation, when the time budget runs out, or when the run lost its lease. Its `reason` is a `StreamerError`. */
  readonly signal: AbortSignal;
  readonly identity: Identity;
  /** Server-generated id; absent on the sync path (nothing is stored). */
  readonly requestId?: string;
  /** 1 for the first run, 2 for the first retry, … */
  readonly attempt: number;
  /** Milliseconds left before this run is aborted with `TIMEOUT`. */
  remainingTimeMs(): number;
  /** State saved by a previous `continueWith`, if this run is a continuation. */
  readonly checkpoint?: JsonValue;
  /** Ends this run and re-queues the request to continue with `state` (work longer than one Lambda run). */
  continueWith(state: JsonValue): Continuation;
  /**
   * Sends `{ type: 'broadcast', topic, data }` to every open connection of the
   * caller's user (`'user'`) or tenant (`'tenant'`); resolves to how many received it.
   */
  broadcast(scope: 'user' | 'tenant', topic: string, data: JsonValue): Promise<number>;
}

export interface HandlerDefinition<Schema extends z.ZodType = z.ZodType, Result extends JsonValue = JsonValue, Name extends string = string> {
  /** The `action` clients send (kept as a literal type, so `ActionMapOf` can key the client's actions by it). */
  readonly name: Name;
  readonly description?: string;
  /** Validates the payload; failures reach the client as `VALIDATION_ERROR` with field details. */
  readonly payload: Schema;
  /** Expected run time; above the stack's sync threshold the request is queued. */
  readonly estimatedDurationMs?: number;
  /** Per-payload decision (takes precedence over `estimatedDurationMs`): true queues the request. */
  readonly shouldQueue?: (payload: z.output<Schema>) => boolean;
  /** Extra validation after the schema; throw a `StreamerError('VALIDATION_ERROR', …)` to refuse. */
  readonly validate?: (payload: z.output<Schema>, identity: Identity) => void | Promise<void>;
  /** Permissions (the JWT `permissions` claim) a caller needs; others get `FORBIDDEN` before any work. */
  readonly permissions?: readonly string[];
  /** Retries of retryable failures before the request fails (default: the stack's `maxRetries`). */
  readonly maxRetries?: number;
  /** Time budget of one run in milliseconds (default: what the function has left). */
  readonly timeoutMs?: number;
  /**
   * Log every progress message so a client that missed some gets them again
   * (`subscribe` with `afterSeq`; the client SDK does it on every reconnect).
   * Default true. Each message sent then costs one small DynamoDB write
   * besides its PostToConnection; false saves that for a chatty handler whose
   * clients only need the latest state (messages are still numbered, and a
   * replay brings nothing).
   */
  readonly progressLog?: boolean;
  process(ctx: HandlerContext<z.output<Schema>>): Promise<Result | Continuation>;
}

/** A handler with its types erased, as the registry stores it. */
export type AnyHandler = HandlerDefinition<z.ZodType, JsonValue>;

/** Declares a handler, typed end to end from its payload schema to its result. */
export function defineHandler<Schema extends z.ZodType, Result extends JsonValue, Name extends string>(
  definition: HandlerDefinition<Schema, Result, Name>,
): HandlerDefinition<Schema, Result, Name> {
  if (!/^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/.test(definition.name)) {
    throw new TypeError(`Handler name "${definition.name}" must start with a letter and use only letters, digits, _ . : -`);
  }
  if (definition.estimatedDurationMs === undefined && definition.shouldQueue === undefined) {
    throw new TypeError(`Handler "${definition.name}" needs estimatedDurationMs or shouldQueue to choose sync or async`);
  }
  return definition;
}
