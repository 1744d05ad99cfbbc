/**
 * Client frame → envelope. Every way a frame can be wrong maps to a
 * `StreamerError` (never a throw that escapes), and the client's `id` is
 * recovered whenever it is usable so the error reply can carry it.
 */
import { StreamerError } from '../errors';
import type { JsonObject } from './messages';
import { WEBSOCKET_LIMITS } from '../aws-limits';
import { textProblem } from '../auth/token-claims';

export const MAX_ID_LENGTH = 128;
export const MAX_ACTION_LENGTH = 128;
/** Longest `idempotencyKey`, in UTF-16 code units (a UUID is 36). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128;
/** Deeper payloads are refused: they only serve to exhaust a parser or a handler's stack. */
export const MAX_PAYLOAD_DEPTH = 32;

export const BUILT_IN_ACTIONS = ['ping', 'status', 'subscribe', 'unsubscribe', 'cancel'] as const;
export type BuiltInAction = (typeof BUILT_IN_ACTIONS)[number];

export interface ClientEnvelope {
  readonly id: string;
  readonly action: string;
  readonly payload: JsonObject;
  /**
   * The client's idempotency key (optional): a repeated key from the same
   * user and tenant returns the async request it started instead of a new one.
   */
  readonly idempotencyKey?: string;
}

export type EnvelopeResult =
  | { readonly ok: true; readonly envelope: ClientEnvelope }
  | { readonly ok: false; readonly id: string | null; readonly error: StreamerError };

function usableId(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH ? value : null;
}

function depthExceeds(value: unknown, limit: number): boolean {
  // Iterative so a hostile frame cannot overflow our own stack while we measure it.
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}

/**
 * JSON.parse that drops `__proto__` keys: JSON.parse itself never pollutes,
 * but a later spread or merge of such an object would.
 */
function parseJson(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => (key === '__proto__' ? undefined : value));
}

export function parseClientFrame(frame: string | undefined | null, maxBytes: number = WEBSOCKET_LIMITS.maxMessageBytes): EnvelopeResult {
  if (typeof frame !== 'string' || frame.length === 0) {
    return { ok: false, id: null, error: new StreamerError('INVALID_REQUEST', 'Empty frame: send one JSON object per text frame') };
  }
  const size = Buffer.byteLength(frame, 'utf8');
  if (size > maxBytes) {
    return {
      ok: false,
      id: null,
      error: new StreamerError('PAYLOAD_TOO_LARGE', `Message is ${size} bytes; the limit is ${maxBytes}`, {
        details: { sizeBytes: size, limitBytes: maxBytes },
      }),
    };
  }
  let parsed: unknown;
  try {
    parsed = parseJson(frame);
  } catch {
    return { ok: false, id: null, error: new StreamerError('INVALID_REQUEST', 'Frame is not valid JSON') };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, id: null, error: new StreamerError('INVALID_REQUEST', 'Frame must be a JSON object') };
  }
  const raw = parsed as Record<string, unknown>;
  const id = usableId(raw.id);
  if (id === null) {
    return {
      ok: false,
      id: null,
      error: new StreamerError('INVALID_REQUEST', `"id" must be a non-empty string of at most ${MAX_ID_LENGTH} characters`, {
        details: { field: 'id' },
      }),
    };
  }
  if (typeof raw.action !== 'string' || raw.action.length === 0 || raw.action.length > MAX_ACTION_LENGTH) {
    return {
      ok: false,
      id,
      error: new StreamerError('INVALID_REQUEST', `"action" must be a non-empty string of at most ${MAX_ACTION_LENGTH} characters`, {
        details: { field: 'action' },
      }),
    };
  }
  const payload = raw.payload ?? {};
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return { ok: false, id, error: new StreamerError('INVALID_REQUEST', '"payload" must be a JSON object', { details: { field: 'payload' } }) };
  }
  if (depthExceeds(payload, MAX_PAYLOAD_DEPTH)) {
    return {
      ok: false,
      id,
      error: new StreamerError('INVALID_REQUEST', `"payload" is nested deeper than ${MAX_PAYLOAD_DEPTH} levels`, { details: { field: 'payload' } }),
    };
  }
  const idempotencyKey = raw.idempotencyKey ?? undefined;
  if (idempotencyKey !== undefined) {
    const problem = typeof idempotencyKey === 'string' ? textProblem(idempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH) : 'is not a string';
    if (problem !== undefined) {
      return {
        ok: false,
        id,
        error: new StreamerError(
          'INVALID_REQUEST',
          `"idempotencyKey" ${problem}: it must be a non-blank string of at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters without control characters`,
          { details: { field: 'idempotencyKey' } },
        ),
      };
    }
  }
  return {
    ok: true,
    envelope: { id, action: raw.action, payload: payload as JsonObject, ...(idempotencyKey !== undefined && { idempotencyKey: idempotencyKey as string }) },
  };
}

export function isBuiltInAction(action: string): action is BuiltInAction {
  return (BUILT_IN_ACTIONS as readonly string[]).includes(action);
}
