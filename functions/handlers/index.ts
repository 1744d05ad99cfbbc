/**
 * The application's handlers. Add yours here: the router and the processor
 * both read this registry, and clients type their calls with `AppActions`.
 */
import { HandlerRegistry, type ActionMapOf } from '../core';
import { digestUpload } from './digest-upload';
import { echo } from './echo';
import { exportRows } from './export-rows';
import { generateReport } from './generate-report';
import { notify } from './notify';
import { processData } from './process-data';

export const handlers = [echo, generateReport, processData, exportRows, digestUpload, notify] as const;

export const registry = new HandlerRegistry(handlers);

/**
 * The client's action map, inferred from the handlers above.
 *
 * @example
 * import type { AppActions } from '../functions/handlers';
 * const client = new StreamerClient<AppActions>(url, { token });
 */
export type AppActions = ActionMapOf<typeof handlers>;
