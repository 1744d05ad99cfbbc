import { StreamerError } from '../errors';
import { BUILT_IN_ACTIONS } from '../protocol/envelope';
import type { AnyHandler, HandlerDefinition } from './define-handler';
import type * as z from 'zod';
import type { JsonValue } from '../protocol/messages';

/** The application's handlers by action name. */
export class HandlerRegistry {
  private readonly byName = new Map<string, AnyHandler>();

  constructor(handlers: ReadonlyArray<HandlerDefinition<z.ZodType, JsonValue>> = []) {
    for (const handler of handlers) this.register(handler);
  }

  register<S extends z.ZodType, R extends JsonValue>(handler: HandlerDefinition<S, R>): this {
    if ((BUILT_IN_ACTIONS as readonly string[]).includes(handler.name)) {
      throw new TypeError(`Handler name "${handler.name}" is a built-in action`);
    }
    if (this.byName.has(handler.name)) throw new TypeError(`Handler "${handler.name}" is registered twice`);
    this.byName.set(handler.name, handler as unknown as AnyHandler);
    return this;
  }

  /** The handler for `action`, or `UNKNOWN_ACTION`. */
  require(action: string): AnyHandler {
    const handler = this.byName.get(action);
    if (!handler) {
      throw new StreamerError('UNKNOWN_ACTION', `No handler for action "${action}"`, { details: { action } });
    }
    return handler;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
