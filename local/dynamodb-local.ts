/**
 * Starts the real DynamoDB Local (the jar shipped by the
 * `amplify-dynamodb-simulator` package) as a child process on a free
 * loopback port, in memory or persisted to a folder, and stops it with the
 * runtime.
 *
 * It listens on loopback only. Its own command line has no host option
 * (`-help` lists none) and its `DynamoDBProxyServer` builds Jetty's
 * `new Server(port)`, which binds every interface: any host that can reach
 * the machine could read every table with made-up credentials. So Java runs
 * Jetty's own `XmlConfiguration` (in the jar's `jetty-xml`) instead of
 * `DynamoDBLocal`'s `main`: the XML builds the same server from the same
 * arguments, sets its connector's host to 127.0.0.1 and starts it. No
 * compiler or extra jar is needed.
 *
 * A runtime killed with SIGKILL cannot stop its children, so a tiny watchdog
 * process holds a pipe from the runtime: when the pipe closes (the runtime
 * died, however it died) the watchdog kills Java and exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
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

/** How DynamoDB Local's Java process ended. */
export interface DynamoDbLocalExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Settles when the Java process has exited, whether `stop` ended it or anything else did (a crash, SIGKILL, OOM). */
  readonly exited: Promise<DynamoDbLocalExit>;
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

/** The system property that carries DynamoDB Local's arguments into the XML below, one per line. */
const ARGS_PROPERTY = 'streamer.dynamodbLocal.args';

/**
 * Jetty XML that does what `ServerRunner.main` does (parse the arguments,
 * build the server, start it) with one change: the connector binds loopback.
 * `DynamoDBProxyServer` keeps its Jetty `Server` in a private field, read by
 * reflection (the classes sit on the class path, so no module refuses it).
 */
const LOOPBACK_LAUNCHER_XML = `<?xml version="1.0"?>
<!DOCTYPE Configure PUBLIC "-//Jetty//Configure//EN" "http://www.eclipse.org/jetty/configure_9_3.dtd">
<Configure class="com.amazonaws.services.dynamodbv2.local.main.ServerRunner">
  <Call class="java.lang.System" name="getProperty">
    <Arg>${ARGS_PROPERTY}</Arg>
    <Call id="args" name="split"><Arg>\\n</Arg></Call>
  </Call>
  <Call id="proxy" class="com.amazonaws.services.dynamodbv2.local.main.ServerRunner" name="createServerFromCommandLineArgs">
    <Arg><Ref refid="args"/></Arg>
  </Call>
  <Call class="java.lang.Class" name="forName">
    <Arg>com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer</Arg>
    <Call id="serverField" name="getDeclaredField"><Arg>server</Arg></Call>
  </Call>
  <Ref refid="serverField">
    <Call name="setAccessible"><Arg type="boolean">true</Arg></Call>
    <Call id="jetty" name="get"><Arg><Ref refid="proxy"/></Arg></Call>
  </Ref>
  <Ref refid="jetty"><Call id="connectors" name="getConnectors"/></Ref>
  <Call class="java.lang.reflect.Array" name="get">
    <Arg><Ref refid="connectors"/></Arg>
    <Arg type="int">0</Arg>
    <Call name="setHost"><Arg>${LOOPBACK}</Arg></Call>
  </Call>
  <Ref refid="proxy"><Call name="start"/></Ref>
</Configure>
`;

/** Writes the launcher XML once per content (a name by its hash), atomically: parallel runtimes share it. */
function loopbackLauncherFile(): string {
  const hash = createHash('sha256').update(LOOPBACK_LAUNCHER_XML).digest('hex').slice(0, 12);
  const file = join(tmpdir(), `streamer-dynamodb-local-loopback-${hash}.xml`);
  if (!existsSync(file)) {
    const staging = `${file}.${process.pid}`;
    writeFileSync(staging, LOOPBACK_LAUNCHER_XML);
    renameSync(staging, file);
  }
  return file;
}

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
  const dynamoDbArgs = ['-port', String(port), '-sharedDb', '-disableTelemetry'];
  if (options.persistDir) {
    mkdirSync(options.persistDir, { recursive: true });
    const dbPath = resolve(options.persistDir);
    // The arguments travel one per line; a path with a line break would split in two.
    if (/[\r\n]/.test(dbPath)) throw new Error(`DynamoDB Local cannot use a data folder whose path has a line break: ${JSON.stringify(dbPath)}`);
    dynamoDbArgs.push('-dbPath', dbPath);
  } else {
    dynamoDbArgs.push('-inMemory');
  }
  const lib = join(dirname(jar), 'DynamoDBLocal_lib');
  const args = [
    // A short-lived development server: skip the optimising JIT tiers, start faster.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Djava.library.path=${lib}`,
    // What ServerRunner.main would set: Jetty quiet but for warnings.
    '-Dorg.eclipse.jetty.LEVEL=WARN',
    '-Dorg.eclipse.jetty.util.log.announce=false',
    `-D${ARGS_PROPERTY}=${dynamoDbArgs.join('\n')}`,
    '-cp',
    // The jar's own manifest class path is ignored with -cp: its libraries are listed here.
    [jar, join(lib, '*')].join(delimiter),
    'org.eclipse.jetty.xml.XmlConfiguration',
    loopbackLauncherFile(),
  ];

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

  const exited = new Promise<DynamoDbLocalExit>((resolveExit) => java.once('exit', (code, signal) => resolveExit({ code, signal })));
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
  return { endpoint, port, pid: spawned.pid!, exited, stop };
}

async function waitUntilServing(
  endpoint: string,
  exited: Promise<DynamoDbLocalExit>,
  timeoutMs: number,
  output: readonly string[],
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  let exit: DynamoDbLocalExit | undefined;
  void exited.then((ended) => (exit = ended));
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (exit !== undefined) {
        throw new Error(`DynamoDB Local exited (${exit.signal ?? `code ${exit.code}`}) before serving:\n${output.join('\n')}`);
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
