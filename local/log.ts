/**
 * The local runtime's own log lines: short, aligned, readable in a terminal
 * (`12:03:04.512 gateway   connect L0SM9cOFvHcCIhw= 200`). Function output
 * (Powertools JSON) is printed by the functions themselves, untouched.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  child(component: string): Logger;
}

export function isLogLevel(value: string): value is LogLevel {
  return Object.prototype.hasOwnProperty.call(ORDER, value);
}

export function createLogger(level: LogLevel = 'info', component = 'local', write = defaultWrite): Logger {
  const emit = (at: LogLevel, message: string): void => {
    if (ORDER[at] < ORDER[level]) return;
    const time = new Date().toISOString().slice(11, 23);
    const tag = at === 'info' || at === 'debug' ? '' : `${at.toUpperCase()} `;
    write(at, `${time} ${component.padEnd(9)} ${tag}${message}`);
  };
  return {
    debug: (message) => emit('debug', message),
    info: (message) => emit('info', message),
    warn: (message) => emit('warn', message),
    error: (message) => emit('error', message),
    child: (name) => createLogger(level, name, write),
  };
}

function defaultWrite(level: LogLevel, line: string): void {
  (level === 'warn' || level === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
}

/** A logger that drops everything (tests, embedded use). */
export const silentLogger: Logger = createLogger('silent');

// The functions' one-line error description, so runtime and function logs read alike.
export { describe as describeError } from '../functions/core/lifecycle/describe-error';
