/**
 * The client's action map, derived from the handler definitions: the
 * payload a client may send is the schema's INPUT type (before defaults and
 * transforms), the result is what `process` returns. Client and handlers
 * then cannot drift: change a schema or a result and every client call that
 * no longer fits fails to compile.
 *
 * Types only: a client importing it (`import type`) gets no server code.
 *
 * @example
 * // functions/handlers/index.ts
 * export const handlers = [echo, generateReport] as const;
 * export type AppActions = ActionMapOf<typeof handlers>;
 * // the app
 * import type { AppActions } from '../functions/handlers';
 * const client = new StreamerClient<AppActions>(url, { token });
 * const { summary } = await client.request('generate_report', { rows: 10 });
 */
import type * as z from 'zod';
import type { Continuation } from './define-handler';

/** What `ActionMapOf` reads of a handler definition. */
export interface HandlerShape {
  readonly name: string;
  readonly payload: z.ZodType;
  process(ctx: never): Promise<unknown>;
}

/** The result a handler's `process` resolves with, a continuation aside (the client never sees one). */
export type HandlerResultOf<H extends HandlerShape> = Exclude<Awaited<ReturnType<H['process']>>, Continuation>;

/** The payload a client sends to a handler: its schema's input type. */
export type HandlerPayloadOf<H extends HandlerShape> = z.input<H['payload']>;

/**
 * `{ [action]: { payload; result } }` for a list of handlers: the type
 * parameter of `StreamerClient<A>` and `createStreamerHooks<A>()`.
 */
export type ActionMapOf<Handlers extends readonly HandlerShape[]> = {
  [H in Handlers[number] as H['name']]: { readonly payload: HandlerPayloadOf<H>; readonly result: HandlerResultOf<H> };
};
