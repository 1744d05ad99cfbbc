/**
 * The local runtime's settings, from command-line flags and environment
 * variables (flags win). A bad value fails start-up with a message naming
 * the flag or variable, as stack config does on AWS.
 *
 *   --port <n>         PORT                              3001 (0 = any free port)
 *   --host <addr>      STREAMER_LOCAL_HOST               127.0.0.1
 *   --persist <dir>    STREAMER_LOCAL_PERSIST            in memory when unset
 *   --data-dir <dir>   STREAMER_LOCAL_DATA_DIR           the persist dir, else ./.streamer
 *   --manifest <file>  STREAMER_LOCAL_MANIFEST           dist/deployment.json (what `npm run build` renders)
 *                      STREAMER_LOCAL_FUNCTIONS_DIR      the manifest's bundles (a test may swap in <dir>/<fn>/index.js)
 *                      STREAMER_LOCAL_RELOAD             off; 1: a changed bundle replaces its function's containers (npm run dev sets it)
 *                      STREAMER_LOCAL_IAM_USAGE_FILE     none (JSON lines of the grants calls used, for npm run iam-report)
 *                      STREAMER_LOCAL_DASHBOARD_DIR      dist/dashboard
 *                      STREAMER_LOCAL_STREAM_POLL_MS     100
 *                      STREAMER_LOCAL_STREAM_RETRY_MS    250 (first retry pause, doubling, max 5 s)
 *                      STREAMER_LOCAL_SWEEP_MS           each schedule rule's own rate
 *                      STREAMER_LOCAL_TTL_SWEEP_MS       30000
 *                      STREAMER_LOCAL_IDLE_TIMEOUT_MS    WEBSOCKET_LIMITS.idleTimeoutMs
 *                      STREAMER_LOCAL_MAX_CONNECTION_MS  WEBSOCKET_LIMITS.maxConnectionDurationMs
 *                      STREAMER_LOCAL_ASYNC_CONCURRENCY  32 (most containers per function; each is about 30 MiB)
 *                      STREAMER_LOCAL_ASYNC_RETRIES      2 (Lambda's default for async invokes)
 *                      STREAMER_LOCAL_CONTAINER_NICE     10 (the containers' scheduling niceness, 0–19: the emulated services run ahead of the functions)
 *                      STREAMER_LOCAL_LOG_LEVEL          info
 *                      STREAMER_LOCAL_FUNCTION_LOGS      readable (or json: the functions' lines untouched)
 */
import { join, resolve } from 'node:path';
import { WEBSOCKET_LIMITS } from '../functions/core/aws-limits';
import { type AsyncRetryPolicy, DEFAULT_CONTAINER_NICENESS, LAMBDA_DEFAULT_ASYNC_RETRY } from './lambda-containers';
import { FUNCTION_LOG_FORMATS, type FunctionLogFormat } from './function-output';
import { isLogLevel, type LogLevel } from './log';

export interface LocalRuntimeOptions {
  readonly port: number;
  readonly host: string;
  readonly persistDir?: string;
  readonly dataDir: string;
  /** The deployment manifest synth rendered. */
  readonly manifestFile: string;
  /** The folder the manifest's relative paths (the bundles) start from. */
  readonly projectDir: string;
  /** Replaces the manifest's code folders by `<dir>/<fn>` (fixture bundles in tests); undefined: the manifest's. */
  readonly functionsDir?: string;
  /** Watch mode: replace a function's containers when its bundle changes on disk (local/code-reloader.ts). */
  readonly reloadFunctions?: boolean;
  readonly iamUsageFile?: string;
  readonly dashboardDir: string;
  readonly region: string;
  readonly streamPollMs: number;
  readonly streamRetryMs: number;
  /** Overrides every schedule rule's rate; undefined: the rule's own. */
  readonly sweepIntervalMs?: number;
  readonly ttlSweepMs: number;
  readonly idleTimeoutMs: number;
  readonly maxConnectionDurationMs: number;
  readonly asyncConcurrency: number;
  /** Niceness (0–19) of every container thread: the emulated AWS services run ahead of the functions, as on AWS they never share a function's CPU. */
  readonly containerNiceness: number;
  readonly asyncRetry: AsyncRetryPolicy;
  readonly logLevel: LogLevel;
  /** How the functions' JSON log lines are printed. */
  readonly functionLogFormat: FunctionLogFormat;
}

export class LocalConfigError extends Error {
  override readonly name = 'LocalConfigError';
}

export const DEFAULT_PORT = 3001;
export const LOCAL_REGION = 'us-east-1';

/** `dist/` next to this code: `local/` when run from sources, `dist/local/` when bundled. */
export function defaultDistDir(): string {
  return resolve(__dirname, '..', __dirname.endsWith(join('dist', 'local')) ? '' : 'dist');
}

type Env = Readonly<Record<string, string | undefined>>;

export function readLocalConfig(argv: readonly string[] = process.argv.slice(2), env: Env = process.env): LocalRuntimeOptions {
  const flags = parseFlags(argv);
  const value = (flag: string, variable: string): { raw: string | undefined; name: string } =>
    flags[flag] !== undefined ? { raw: flags[flag], name: `--${flag}` } : { raw: env[variable]?.trim() || undefined, name: variable };
  const integer = (flag: string | undefined, variable: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const { raw, name } = flag ? value(flag, variable) : { raw: env[variable]?.trim() || undefined, name: variable };
    if (raw === undefined) return fallback;
    const parsed = Number(raw);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new LocalConfigError(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
    }
    return parsed;
  };

  const dist = defaultDistDir();
  const persist = value('persist', 'STREAMER_LOCAL_PERSIST').raw;
  const persistDir = persist ? resolve(persist) : undefined;
  const dataDir = resolve(value('data-dir', 'STREAMER_LOCAL_DATA_DIR').raw ?? persistDir ?? '.streamer');
  const logLevel = env.STREAMER_LOCAL_LOG_LEVEL?.trim() || 'info';
  if (!isLogLevel(logLevel)) throw new LocalConfigError(`STREAMER_LOCAL_LOG_LEVEL must be debug, info, warn, error or silent, got "${logLevel}"`);
  const functionLogFormat = env.STREAMER_LOCAL_FUNCTION_LOGS?.trim() || 'readable';
  if (!(FUNCTION_LOG_FORMATS as readonly string[]).includes(functionLogFormat)) {
    throw new LocalConfigError(`STREAMER_LOCAL_FUNCTION_LOGS must be ${FUNCTION_LOG_FORMATS.join(' or ')}, got "${functionLogFormat}"`);
  }
  const asyncRetries = integer(undefined, 'STREAMER_LOCAL_ASYNC_RETRIES', LAMBDA_DEFAULT_ASYNC_RETRY.maximumRetryAttempts, 0, 2);

  return {
    port: integer('port', 'PORT', DEFAULT_PORT, 0, 65535),
    host: value('host', 'STREAMER_LOCAL_HOST').raw ?? '127.0.0.1',
    persistDir,
    dataDir,
    manifestFile: resolve(value('manifest', 'STREAMER_LOCAL_MANIFEST').raw ?? join(dist, 'deployment.json')),
    projectDir: resolve(dist, '..'),
    functionsDir: env.STREAMER_LOCAL_FUNCTIONS_DIR?.trim() ? resolve(env.STREAMER_LOCAL_FUNCTIONS_DIR.trim()) : undefined,
    reloadFunctions: flagOn(env, 'STREAMER_LOCAL_RELOAD'),
    iamUsageFile: env.STREAMER_LOCAL_IAM_USAGE_FILE?.trim() ? resolve(env.STREAMER_LOCAL_IAM_USAGE_FILE.trim()) : undefined,
    dashboardDir: resolve(env.STREAMER_LOCAL_DASHBOARD_DIR?.trim() || join(dist, 'dashboard')),
    region: LOCAL_REGION,
    streamPollMs: integer(undefined, 'STREAMER_LOCAL_STREAM_POLL_MS', 100, 10, 60_000),
    streamRetryMs: integer(undefined, 'STREAMER_LOCAL_STREAM_RETRY_MS', 250, 0, 60_000),
    sweepIntervalMs: env.STREAMER_LOCAL_SWEEP_MS?.trim() ? integer(undefined, 'STREAMER_LOCAL_SWEEP_MS', 0, 50) : undefined,
    ttlSweepMs: integer(undefined, 'STREAMER_LOCAL_TTL_SWEEP_MS', 30_000, 50),
    idleTimeoutMs: integer(undefined, 'STREAMER_LOCAL_IDLE_TIMEOUT_MS', WEBSOCKET_LIMITS.idleTimeoutMs, 10),
    maxConnectionDurationMs: integer(undefined, 'STREAMER_LOCAL_MAX_CONNECTION_MS', WEBSOCKET_LIMITS.maxConnectionDurationMs, 10),
    asyncConcurrency: integer(undefined, 'STREAMER_LOCAL_ASYNC_CONCURRENCY', 32, 1, 10_000),
    containerNiceness: integer(undefined, 'STREAMER_LOCAL_CONTAINER_NICE', DEFAULT_CONTAINER_NICENESS, 0, 19),
    asyncRetry: { ...LAMBDA_DEFAULT_ASYNC_RETRY, maximumRetryAttempts: asyncRetries },
    logLevel,
    functionLogFormat: functionLogFormat as FunctionLogFormat,
  };
}

/** `1`/`true` on, unset/`0`/`false` off; anything else is refused. */
function flagOn(env: Env, variable: string): boolean {
  const raw = env[variable]?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new LocalConfigError(`${variable} must be 1 or 0, got "${env[variable]}"`);
}

function parseFlags(argv: readonly string[]): Record<string, string | undefined> {
  const known = new Set(['port', 'host', 'persist', 'data-dir', 'manifest']);
  const flags: Record<string, string | undefined> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new LocalConfigError(`Unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (!known.has(name)) throw new LocalConfigError(`Unknown flag --${name} (known: ${[...known].map((k) => `--${k}`).join(', ')})`);
    const flagValue = inline ?? argv[++i];
    if (flagValue === undefined || flagValue.startsWith('--')) throw new LocalConfigError(`--${name} needs a value`);
    flags[name] = flagValue;
  }
  return flags;
}
