/**
 * Starts the real DynamoDB Local (the jar shipped by the
 * `amplify-dynamodb-simulator` package) as a child process on a free
 * loopback port, in memory or persisted to a folder, and stops it with the
 * runtime.
 *
 * A runtime killed with SIGKILL cannot stop its children, so a tiny watchdog
 * process holds a pipe from the runtime: when the pipe closes (the runtime
 * died, however it died) the watchdog kills Java and exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { type Logger, silentLogger } from './log';

export interface DynamoDbLocalOptions {
  /** Keep tables in this folder between runs; in memory when absent. */
  readonly persistDir?: string;
  /** Port to listen on; a free one when absent. */
  readonly port?: number;
  /** Path to `DynamoDBLocal.jar` (its `DynamoDBLocal_lib` must sit beside it). */
  readonly jarPath?: string;
  readonly startTimeoutMs?: number;
  readonly log?: Logger;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError';
  constructor() {
    super(
      'DynamoDB Local needs a Java 17 runtime and `java` was not found on PATH (or in JAVA_HOME). ' +
        'Install one, e.g. `apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) or `brew install openjdk@17` (macOS).',
    );
  }
}

const LOOPBACK = '127.0.0.1';

/** Kills Java when the runtime's pipe closes; exits on its own when Java is gone. */
const WATCHDOG_SOURCE = `
const javaPid = Number(process.argv[1]);
const alive = () => { try { process.kill(javaPid, 0); return true; } catch { return false; } };
const killJava = () => {
  if (!alive()) process.exit(0);
  try { process.kill(javaPid, 'SIGTERM'); } catch {}
  setTimeout(() => { try { process.kill(javaPid, 'SIGKILL'); } catch {} process.exit(0); }, 3000);
  setInterval(() => { if (!alive()) process.exit(0); }, 100);
};
process.stdin.on('end', killJava);
process.stdin.on('error', killJava);
process.stdin.resume();
setInterval(() => { if (!alive()) process.exit(0); }, 1000);
`;

export function locateDynamoDbLocalJar(): string {
  const override = process.env.STREAMER_DYNAMODB_LOCAL_JAR;
  if (override) return resolve(override);
  // A variable, not a literal: the package stays outside the bundle and is found from node_modules at run time.
  const simulatorPackage = 'amplify-dynamodb-simulator/package.json';
  const pkg = require.resolve(simulatorPackage);
  return join(dirname(pkg), 'emulator', 'DynamoDBLocal.jar');
}

function javaExecutable(): string {
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  return 'java';
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const log = options.log ?? silentLogger;
  const jar = options.jarPath ?? locateDynamoDbLocalJar();
  if (!existsSync(jar)) throw new Error(`DynamoDB Local is missing at ${jar} (is the amplify-dynamodb-simulator dev dependency installed?)`);
  const port = options.port ?? (await freePort());
  const args = [
    // A short-lived development server: skip the optimising JIT tiers, start faster.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Djava.library.path=${join(dirname(jar), 'DynamoDBLocal_lib')}`,
    '-jar',
    jar,
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
  ];
  if (options.persistDir) {
    mkdirSync(options.persistDir, { recursive: true });
    args.push('-dbPath', resolve(options.persistDir));
  } else {
    args.push('-inMemory');
  }

  const java = spawn(javaExecutable(), args, { cwd: dirname(jar), stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      output.push(line);
      if (output.length > 50) output.shift();
      log.debug(line);
    }
  };
  java.stdout!.on('data', keep);
  java.stderr!.on('data', keep);

  const spawned = await new Promise<ChildProcess>((resolveSpawn, reject) => {
    java.once('spawn', () => resolveSpawn(java));
    java.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new JavaMissingError() : error));
  });
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(spawned.pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();

  const exited = new Promise<number | null>((resolveExit) => java.once('exit', (code) => resolveExit(code)));
  const endpoint = `http://${LOOPBACK}:${port}`;
  let stopping = false;

  const stop = async (): Promise<void> => {
    if (stopping) return exited.then(() => undefined);
    stopping = true;
    watchdog.kill('SIGTERM');
    if (java.exitCode === null && java.signalCode === null) java.kill('SIGTERM');
    const timer = setTimeout(() => java.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitUntilServing(endpoint, exited, options.startTimeoutMs ?? 20_000, output);
  } catch (error) {
    await stop();
    throw error;
  }
  log.debug(`DynamoDB Local ${options.persistDir ? `persisted in ${options.persistDir}` : 'in memory'} at ${endpoint}`);
  return { endpoint, port, pid: spawned.pid!, stop };
}

async function waitUntilServing(
  endpoint: string,
  exited: Promise<number | null>,
  timeoutMs: number,
  output: readonly string[],
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (exitCode !== undefined) {
        throw new Error(`DynamoDB Local exited (code ${exitCode}) before serving:\n${output.join('\n')}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer within ${timeoutMs} ms:\n${output.join('\n')}`);
        await new Promise((resolveWait) => setTimeout(resolveWait, 50));
      }
    }
  } finally {
    client.destroy();
  }
}
