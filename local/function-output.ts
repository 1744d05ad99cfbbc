/**
 * The emulated CloudWatch Logs. On Lambda, what a function prints goes to
 * its log group, and CloudWatch turns the Embedded Metric Format lines among
 * it into metrics. Here each function's containers hand their stdout/stderr
 * lines to the sink this module builds (`LambdaContainers`' `onOutput`): EMF
 * lines feed `EmfMetrics`; Powertools' JSON log lines are printed in the
 * runtime's readable form (`12:03:04.512 router    Replied action=echo tenantId=acme …`),
 * or untouched with format `json`; anything else passes through as it is.
 */
import { emfDirectives, type EmfMetrics } from './emf-metrics';
import type { OutputStream } from './lambda-containers';

export type FunctionLogFormat = 'readable' | 'json';

export const FUNCTION_LOG_FORMATS: readonly FunctionLogFormat[] = ['readable', 'json'];

export interface FunctionOutputOptions {
  readonly metrics: EmfMetrics;
  readonly format: FunctionLogFormat;
  /** Where the lines are printed. @default the runtime's own stdout and stderr */
  readonly streams?: Readonly<Record<OutputStream, NodeJS.WritableStream>>;
}

/** Receives a function's output: whole lines (each ending in `\n`) from one of its streams. */
export type FunctionOutputSink = (functionName: string, stream: OutputStream, chunk: string) => void;

/** Keys every Powertools line carries that a reader at a terminal does not need. */
const QUIET_KEYS = new Set([
  'level', 'message', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id',
  'function_arn', 'function_memory_size', 'function_name', 'function_request_id', 'cold_start',
]);

/**
 * The sink for the functions' output: records EMF lines as metrics and prints the rest.
 *
 * @example
 * ```ts
 * const lambda = new LambdaContainers({ functions, localConcurrencyCap: 10, onOutput: createFunctionOutput({ metrics, format: 'readable' }) });
 * ```
 */
export function createFunctionOutput(options: FunctionOutputOptions): FunctionOutputSink {
  const streams = options.streams ?? { stdout: process.stdout, stderr: process.stderr };
  return (functionName, stream, chunk) => {
    const lines = chunk.endsWith('\n') ? chunk.slice(0, -1).split('\n') : chunk.split('\n');
    const out = lines
      .map((line) => transformLine(line, functionName, options))
      .filter((line): line is string => line !== undefined);
    if (out.length > 0) streams[stream].write(`${out.join('\n')}\n`);
  };
}

/** The line to print instead (undefined: print nothing). */
function transformLine(line: string, functionName: string, options: FunctionOutputOptions): string | undefined {
  const parsed = parseJsonObject(line);
  if (!parsed) return line;
  if (emfDirectives(parsed)) {
    options.metrics.record(parsed);
    return options.format === 'json' ? line : undefined;
  }
  if (options.format === 'json' || !isPowertoolsLog(parsed)) return line;
  return readable(parsed, functionName);
}

function parseJsonObject(line: string): Record<string, unknown> | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isPowertoolsLog(line: Record<string, unknown>): boolean {
  return typeof line.level === 'string' && typeof line.message === 'string' && typeof line.timestamp === 'string';
}

/**
 * `12:03:04.512 router    WARN message key=value …`, the layout of the runtime's own lines (log.ts).
 * The function is the line's `function_name`, else the one that printed it.
 */
export function readable(line: Record<string, unknown>, printedBy = 'function'): string {
  const time = typeof line.timestamp === 'string' ? line.timestamp.slice(11, 23) : new Date().toISOString().slice(11, 23);
  // `streamer-local-router` prints as `router`: the deployment's prefix says nothing locally.
  const fn = (typeof line.function_name === 'string' ? line.function_name : printedBy).replace(/^.*-(?=[a-z]+$)/, '');
  const level = String(line.level).toUpperCase();
  const tag = level === 'INFO' || level === 'DEBUG' ? '' : `${level} `;
  const fields = Object.entries(line)
    .filter(([key, value]) => !QUIET_KEYS.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  if (line.cold_start === true) fields.push('cold_start');
  return `${time} ${fn.padEnd(9)} ${tag}${String(line.message)}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w.:@/#=+$-]*$/.test(value) && value !== '' ? value : JSON.stringify(value);
  return JSON.stringify(value);
}
