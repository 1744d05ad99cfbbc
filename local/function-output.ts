/**
 * The emulated CloudWatch Logs. On Lambda, what a function prints goes to
 * its log group, and CloudWatch turns the Embedded Metric Format lines among
 * it into metrics. Here the functions run in this process and print to its
 * stdout/stderr, so this reads every line written there: EMF lines feed
 * `EmfMetrics`; Powertools' JSON log lines are printed in the runtime's
 * readable form (`12:03:04.512 router    Replied action=echo tenantId=acme …`),
 * or untouched with format `json`; anything else passes through as it is.
 */
import { emfDirectives, type EmfMetrics } from './emf-metrics';
import { LOCAL_FUNCTION_PREFIX } from './function-host';

export type FunctionLogFormat = 'readable' | 'json';

export const FUNCTION_LOG_FORMATS: readonly FunctionLogFormat[] = ['readable', 'json'];

export interface FunctionOutputOptions {
  readonly metrics: EmfMetrics;
  readonly format: FunctionLogFormat;
  readonly streams?: readonly NodeJS.WriteStream[];
}

/** Keys every Powertools line carries that a reader at a terminal does not need. */
const QUIET_KEYS = new Set([
  'level', 'message', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id',
  'function_arn', 'function_memory_size', 'function_name', 'function_request_id', 'cold_start',
]);

/** Starts reading what is written to stdout and stderr; returns the function that stops it. */
export function captureFunctionOutput(options: FunctionOutputOptions): () => void {
  const streams = options.streams ?? [process.stdout, process.stderr];
  const restores = streams.map((stream) => {
    const original = stream.write;
    const write = original.bind(stream) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      if (typeof chunk !== 'string' || !chunk.includes('{')) return write(chunk, ...rest);
      const out = chunk
        .split('\n')
        .map((line) => transformLine(line, options))
        .filter((line): line is string => line !== undefined)
        .join('\n');
      return out === '' ? (callbackOf(rest)?.(), true) : write(out, ...rest);
    }) as typeof stream.write;
    return () => {
      stream.write = original;
    };
  });
  return () => restores.forEach((restore) => restore());
}

/** The line to print instead (undefined: print nothing). */
function transformLine(line: string, options: FunctionOutputOptions): string | undefined {
  const parsed = parseJsonObject(line);
  if (!parsed) return line;
  if (emfDirectives(parsed)) {
    options.metrics.record(parsed);
    return options.format === 'json' ? line : undefined;
  }
  if (options.format === 'json' || !isPowertoolsLog(parsed)) return line;
  return readable(parsed);
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

/** `12:03:04.512 router    WARN message key=value …`, the layout of the runtime's own lines (log.ts). */
export function readable(line: Record<string, unknown>): string {
  const time = typeof line.timestamp === 'string' ? line.timestamp.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const fn = typeof line.function_name === 'string' ? line.function_name.replace(LOCAL_FUNCTION_PREFIX, '') : 'function';
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

function callbackOf(rest: readonly unknown[]): (() => void) | undefined {
  const last = rest[rest.length - 1];
  return typeof last === 'function' ? (last as () => void) : undefined;
}
