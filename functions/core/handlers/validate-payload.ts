import { StreamerError, toStreamerError } from '../errors';
import type { Identity } from '../identity';
import type { AnyHandler } from './define-handler';

export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
  readonly code: string;
}

/**
 * Runs the handler's schema and its `validate` hook. Every refusal is a
 * `VALIDATION_ERROR` whose details list the issues by field path.
 */
export async function validatePayload(handler: AnyHandler, payload: unknown, identity: Identity): Promise<unknown> {
  const parsed = handler.payload.safeParse(payload);
  if (!parsed.success) {
    const issues: ValidationIssue[] = parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(payload)',
      message: issue.message,
      code: issue.code,
    }));
    const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw new StreamerError('VALIDATION_ERROR', summary, { details: { issues: issues.map((i) => ({ ...i })) } });
  }
  if (handler.validate) {
    try {
      await handler.validate(parsed.data, identity);
    } catch (error) {
      const failure = toStreamerError(error);
      if (failure.code === 'VALIDATION_ERROR') throw failure;
      // A validate hook that crashes is a validation failure of unknown cause, not a retryable fault.
      throw new StreamerError('VALIDATION_ERROR', error instanceof Error ? error.message : 'Payload refused', { cause: error });
    }
  }
  return parsed.data;
}

/** Sync or async: the per-payload `shouldQueue` wins, else the estimate against the stack's threshold. */
export function shouldQueue(handler: AnyHandler, payload: unknown, syncThresholdMs: number): boolean {
  if (handler.shouldQueue) return handler.shouldQueue(payload);
  return (handler.estimatedDurationMs ?? 0) > syncThresholdMs;
}

/** Refuses callers without every permission the handler declares. */
export function requirePermissions(handler: AnyHandler, identity: Identity): void {
  const missing = (handler.permissions ?? []).filter((p) => !identity.permissions.includes(p));
  if (missing.length > 0) {
    throw new StreamerError('FORBIDDEN', `Action "${handler.name}" needs permission ${missing.map((p) => `"${p}"`).join(', ')}`, {
      details: { missing },
    });
  }
}
