/**
 * The application's handlers. Add yours here: the router and the processor
 * both read this registry, and clients type their calls with `AppActions`.
 */
import { HandlerRegistry, type ActionMapOf } from '../core';
import { echo } from './echo';
import { generateReport } from './generate-report';
import { processData } from './process-data';

export const handlers = [echo, generateReport, processData] as const;

export const registry = new HandlerRegistry(handlers);

/**
 * The client's action map, inferred from the handlers above.
 *
 * @example
 * import type { AppActions } from '../functions/handlers';
 * const client = new StreamerClient<AppActions>(url, { token });
 */
export type AppActions = ActionMapOf<typeof handlers>;
