/**
 * The handler author's surface of Streamer's core.
 *
 * @example
 * import * as z from 'zod';
 * import { defineHandler } from '../core';
 *
 * export const hello = defineHandler({
 *   name: 'hello',
 *   payload: z.object({ name: z.string() }),
 *   estimatedDurationMs: 5,
 *   async process({ payload }) { return { greeting: `Hello, ${payload.name}` }; },
 * });
 */
export { defineHandler } from './handlers/define-handler';
export type { HandlerDefinition, HandlerContext, ProgressReporter, Continuation, AnyHandler } from './handlers/define-handler';
export { HandlerRegistry } from './handlers/handler-registry';
export type { ActionMapOf, HandlerPayloadOf, HandlerResultOf, HandlerShape } from './handlers/action-map';
export { StreamerError, RetryableError, FatalError, ERROR_CODES } from './errors';
export type { ErrorCode, WireError } from './errors';
export type { Identity } from './identity';
export type { JsonValue, JsonObject } from './protocol/messages';
export { pause } from './pause';
export { runHandler } from './handlers/run-handler-for-test';
export type { HandlerTestRun } from './handlers/run-handler-for-test';
