/**
 * Starts what the benchmark measures: the Streamer local runtime
 * (`node dist/local/index.js`, what `npm start` runs, as a child process on
 * a free port) with limits raised for load, and the bare `ws` echo server
 * that is the floor every latency is compared with.
 *
 * Like tests/support/local-runtime.ts, but it keeps only the tail of the
 * runtime's output (a load run must not grow the benchmark's memory) and can
 * pass Node flags to the runtime (`--cpu-prof` for `--profile`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WEBSOCKET_LIMITS } from '../../functions/core/aws-limits';
import { manifestWithConfig } from '../../infra/synth/manifest-with-config';
import { devJwtSecret, mintDevToken } from '../../local/dev-token';
import { dynamoDbLocalPid } from './process-stats';

export const REPO_ROOT = resolve(__dirname, '..', '..');
const LOCAL_BUNDLE = join(REPO_ROOT, 'dist', 'local', 'index.js');

/**
 * Environment the runtime (and the functions it runs) get in every benchmark.
 * Rate limits are raised so the load is never refused: the defaults (50/s a
 * connection, 100/s a user, 1,000/s a tenant) would cap the figures instead
 * of the machine. Logs are quiet so printing does not eat the CPU measured.
 */
export const BENCH_STACK_CONFIG: Readonly<Record<string, string>> = {
  logLevel: 'WARN',
  rateLimitConnection: '1000000/1000000',
  rateLimitUser: '1000000/1000000',
  rateLimitTenant: '1000000/1000000',
};

export const BENCH_RUNTIME_ENV: Readonly<Record<string, string>> = {
  STREAMER_LOCAL_LOG_LEVEL: 'warn',
  // Lambda's default account concurrency is 1,000; the local default is 32 containers a function.
  STREAMER_LOCAL_ASYNC_CONCURRENCY: '1000',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export interface BenchRuntimeOptions {
  readonly env?: Record<string, string>;
  /** Stack config to render the deployment with; default `BENCH_STACK_CONFIG` (limits raised, logs quiet). */
  readonly stack?: Readonly<Record<string, string>>;
  /** Node flags for the runtime process, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
}

export interface BenchRuntime {
  readonly wsUrl: string;
  readonly httpUrl: string;
  readonly pid: number;
  readonly javaPid: number | undefined;
  readonly env: Readonly<Record<string, string>>;
  /** `ws://…?token=…` for a user of the benchmark tenant. */
  urlFor(user: string): string;
  /** The last lines the runtime printed. */
  outputTail(): string;
  /** SIGTERM, then SIGKILL after 15 s; resolves once the process has exited. */
  stop(): Promise<void>;
  /**
   * SIGKILL: for a runtime holding thousands of connections, whose graceful
   * stop would run a `$disconnect` for each. Its DynamoDB Local is stopped by
   * the watchdog the runtime gave it.
   */
  kill(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startBenchRuntime(options: BenchRuntimeOptions = {}): Promise<BenchRuntime> {
  const env = { ...BENCH_RUNTIME_ENV, ...options.env };
  const dataDir = mkdtempSync(join(tmpdir(), 'streamer-bench-'));
  const manifest = manifestWithConfig({ root: REPO_ROOT, config: options.stack ?? BENCH_STACK_CONFIG, jwtSecret: devJwtSecret() });
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), LOCAL_BUNDLE, '--port', '0', '--manifest', manifest], {
    cwd: REPO_ROOT,
    env: { ...process.env, STREAMER_LOCAL_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-(Number(process.env.BENCH_TAIL) || 20_000));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  void exited.then(() => {
    running.delete(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ready = await new Promise<{ wsUrl: string; httpUrl: string }>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`local runtime not ready within 60 s:\n${tail}`));
    }, 60_000);
    const onData = (): void => {
      const line = tail.split('\n').find((candidate) => candidate.startsWith('STREAMER_READY '));
      if (!line) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolveReady(JSON.parse(line.slice('STREAMER_READY '.length)) as { wsUrl: string; httpUrl: string });
    };
    child.stdout!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`local runtime exited before ready (code ${child.exitCode}):\n${tail}`));
    });
  });

  const pid = child.pid!;
  const tokens = new Map<string, string>();
  return {
    ...ready,
    pid,
    javaPid: dynamoDbLocalPid(pid),
    env,
    urlFor: (user) => {
      let token = tokens.get(user);
      if (!token) tokens.set(user, (token = mintDevToken({ sub: user, tenant: 'bench' })));
      return `${ready.wsUrl}?token=${token}`;
    },
    outputTail: () => tail,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A bare `ws` server that sends every frame straight back: the machine's floor for one WebSocket round trip. */
const FLOOR_SERVER_SOURCE = `
const { WebSocketServer } = require('ws');
const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: ${WEBSOCKET_LIMITS.maxMessageBytes} });
server.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
server.on('listening', () => process.stdout.write('FLOOR_READY ' + server.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

export interface FloorServer {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startFloorServer(): Promise<FloorServer> {
  const child = spawn(process.execPath, ['-e', FLOOR_SERVER_SOURCE], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(child);
  void once(child, 'exit').then(() => running.delete(child));
  const port = await new Promise<number>((resolvePort, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error('floor server not ready in 10 s')), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /FLOOR_READY (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`floor server exited (${code})`));
    });
  });
  return {
    url: `ws://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
