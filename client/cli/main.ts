/**
 * `streamer`: the terminal client.
 *
 *   streamer request <action> '<json>'   run an action; progress on stderr, result JSON on stdout
 *   streamer status <requestId>          a request's stored state
 *   streamer subscribe <requestId>       follow a request (from anywhere) to its end
 *   streamer cancel <requestId>          cancel a request
 *   streamer token --sub alice --tenant acme   mint a local development token
 *
 * Exit codes: 0 ok, 1 the request failed (or was cancelled/timed out),
 * 2 usage error, 3 connection or authentication failure.
 */
import { parseArgs } from 'node:util';
import { mintDevToken } from '../../local/dev-token';
import { StreamerClient, StreamerError } from '../node';
import { ProgressDisplay, type OutputStream } from './progress-display';

/** The exit codes scripts can rely on. */
export const EXIT = { ok: 0, requestFailed: 1, usage: 2, connection: 3 } as const;

/** The local runtime's default address. */
export const DEFAULT_URL = 'ws://127.0.0.1:3001';

/** What the CLI touches of its process, injectable for tests. */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C: the running request is cancelled on the server. */
  readonly interrupt?: AbortSignal;
}

const USAGE = `Usage: streamer <command> [options]

Commands:
  request <action> ['<json payload>']   run an action and print its result
  status <requestId>                    print a request's stored state
  subscribe <requestId>                 follow a request to its final message
  cancel <requestId>                    cancel a request
  token --sub <user> --tenant <tenant>  print a local development token

Options:
  --url <ws-url>        server (env STREAMER_URL, default ${DEFAULT_URL})
  --token <jwt>         token (env STREAMER_TOKEN; default: a dev token for --sub/--tenant)
  --sub <user>          user of a minted dev token (default: cli)
  --tenant <tenant>     tenant of a minted dev token (default: local)
  --permissions <a,b>   permissions claim of a minted dev token
  --expires-in <s>      lifetime of a minted dev token in seconds (default 86400)
  --timeout <ms>        give up (and cancel) after this long
  --quiet               no progress output
  -h, --help            this help

Exit codes: 0 ok, 1 request failed, 2 usage error, 3 connection/auth failure.
`;

class UsageError extends Error {}

interface ParsedCli {
  readonly command: string;
  readonly args: string[];
  readonly values: {
    url?: string;
    token?: string;
    sub?: string;
    tenant?: string;
    permissions?: string;
    'expires-in'?: string;
    timeout?: string;
    quiet?: boolean;
    help?: boolean;
  };
}

function parseCli(argv: readonly string[]): ParsedCli {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        sub: { type: 'string' },
        tenant: { type: 'string' },
        permissions: { type: 'string' },
        'expires-in': { type: 'string' },
        timeout: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const [command = '', ...args] = parsed.positionals;
  return { command, args, values: parsed.values };
}

/**
 * Runs the CLI and resolves with its exit code (never calls `process.exit`).
 *
 * @example
 * process.exitCode = await runCli(['request', 'echo', '{"hi":1}'], { stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let cli: ParsedCli;
  try {
    cli = parseCli(argv);
    if (cli.values.help || cli.command === '' || cli.command === 'help') {
      io.stdout.write(USAGE);
      return cli.values.help || cli.command === 'help' ? EXIT.ok : EXIT.usage;
    }
    if (cli.command === 'token') return printToken(cli, io);
    const run = COMMANDS[cli.command];
    if (run === undefined) throw new UsageError(`Unknown command "${cli.command}"`);
    const prepared = run.prepare(cli);
    return await withClient(cli, io, (client) => run.execute(client, prepared, cli, io));
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`streamer: ${error.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    io.stderr.write(`streamer: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.connection;
  }
}

interface Command<P> {
  prepare(cli: ParsedCli): P;
  execute(client: StreamerClient, prepared: P, cli: ParsedCli, io: CliIo): Promise<number>;
}

const requestCommand: Command<{ action: string; payload: Record<string, unknown>; timeoutMs?: number }> = {
  prepare(cli) {
    const [action, json = '{}', ...extra] = cli.args;
    if (action === undefined) throw new UsageError('request needs an action, e.g. streamer request echo \'{"hello":"world"}\'');
    if (extra.length > 0) throw new UsageError(`Unexpected arguments: ${extra.join(' ')} (quote the JSON payload)`);
    return { action, payload: parsePayload(json), timeoutMs: parseTimeout(cli.values.timeout) };
  },
  async execute(client, { action, payload, timeoutMs }, cli, io) {
    const display = cli.values.quiet ? null : new ProgressDisplay(io.stderr);
    let accepted: string | undefined;
    try {
      const data = await client.request(action, payload, {
        signal: io.interrupt,
        timeoutMs,
        onAccepted: (requestId) => {
          accepted = requestId;
          if (!cli.values.quiet) io.stderr.write(`accepted ${requestId}\n`);
        },
        onProgress: (progress) => display?.update(progress),
      });
      display?.done();
      printJson(io.stdout, data);
      return EXIT.ok;
    } catch (error) {
      display?.done();
      if (io.interrupt?.aborted) await confirmCancel(client, () => accepted, io);
      return reportFailure(error, io);
    }
  },
};

/**
 * After Ctrl-C the SDK cancels on its own, but this process is about to
 * exit: wait (briefly) for the requestId if the ack is still on its way,
 * and for the server's confirmation, so the work really stops.
 */
async function confirmCancel(client: StreamerClient, requestId: () => string | undefined, io: CliIo): Promise<void> {
  const deadline = Date.now() + 2000;
  while (requestId() === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const id = requestId();
  if (id === undefined) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const confirmed = await Promise.race([
    client.cancel(id).then(() => true, () => false),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()) + 1000))),
  ]);
  clearTimeout(timer);
  io.stderr.write(confirmed ? `cancelled ${id}\n` : `could not confirm the cancellation of ${id}\n`);
}

const statusCommand: Command<string> = {
  prepare: (cli) => requestIdArgument(cli, 'status'),
  async execute(client, requestId, _cli, io) {
    try {
      printJson(io.stdout, await client.status(requestId));
      return EXIT.ok;
    } catch (error) {
      return reportFailure(error, io);
    }
  },
};

const subscribeCommand: Command<string> = {
  prepare: (cli) => requestIdArgument(cli, 'subscribe'),
  async execute(client, requestId, cli, io) {
    const display = cli.values.quiet ? null : new ProgressDisplay(io.stderr);
    const subscription = client.subscribe(requestId, { onProgress: (progress) => display?.update(progress) });
    const onInterrupt = () => void subscription.unsubscribe();
    io.interrupt?.addEventListener('abort', onInterrupt, { once: true });
    try {
      const data = await Promise.race([
        subscription.result,
        new Promise<never>((_, reject) => io.interrupt?.addEventListener('abort', () => reject(new StreamerError('CANCELLED', 'Stopped following (the request keeps running)')), { once: true })),
      ]);
      display?.done();
      printJson(io.stdout, data);
      return EXIT.ok;
    } catch (error) {
      display?.done();
      return reportFailure(error, io);
    } finally {
      io.interrupt?.removeEventListener('abort', onInterrupt);
    }
  },
};

const cancelCommand: Command<string> = {
  prepare: (cli) => requestIdArgument(cli, 'cancel'),
  async execute(client, requestId, _cli, io) {
    try {
      await client.cancel(requestId);
      io.stdout.write(`cancelled ${requestId}\n`);
      return EXIT.ok;
    } catch (error) {
      return reportFailure(error, io);
    }
  },
};

const COMMANDS: Record<string, Command<never> | undefined> = {
  request: requestCommand as Command<never>,
  status: statusCommand as Command<never>,
  subscribe: subscribeCommand as Command<never>,
  cancel: cancelCommand as Command<never>,
};

function printToken(cli: ParsedCli, io: CliIo): number {
  const { sub, tenant } = cli.values;
  if (!sub || !tenant) throw new UsageError('token needs --sub and --tenant');
  const expiresIn = cli.values['expires-in'];
  const expiresInSeconds = expiresIn === undefined ? undefined : Number(expiresIn);
  if (expiresInSeconds !== undefined && !(Number.isInteger(expiresInSeconds) && expiresInSeconds > 0)) {
    throw new UsageError('--expires-in must be a positive number of seconds');
  }
  io.stdout.write(`${mintDevToken({ sub, tenant, permissions: permissionsOf(cli), expiresInSeconds, secret: devSecret(io) })}\n`);
  return EXIT.ok;
}

async function withClient(cli: ParsedCli, io: CliIo, use: (client: StreamerClient) => Promise<number>): Promise<number> {
  const url = cli.values.url ?? io.env.STREAMER_URL ?? DEFAULT_URL;
  const token =
    cli.values.token ??
    io.env.STREAMER_TOKEN ??
    mintDevToken({ sub: cli.values.sub ?? 'cli', tenant: cli.values.tenant ?? 'local', permissions: permissionsOf(cli), secret: devSecret(io) });
  const client = new StreamerClient(url, {
    token,
    // A script wants an answer, not a client retrying for ever: a few quick attempts, then exit 3.
    reconnect: { initialDelayMs: 200, maxDelayMs: 2000, maxAttempts: 4 },
    whileDisconnected: 'queue',
  });
  try {
    await client.ready();
  } catch (error) {
    client.close();
    return reportFailure(error, io, `cannot connect to ${url}`);
  }
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** Prints a failure readably and maps it to an exit code. */
function reportFailure(error: unknown, io: CliIo, context?: string): number {
  if (!(error instanceof StreamerError)) {
    io.stderr.write(`streamer: ${context ? `${context}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.connection;
  }
  const lines = [`error ${error.code}: ${error.message}${context ? ` (${context})` : ''}`];
  lines.push(`  retryable: ${error.retryable ? 'yes' : 'no'}${error.retryAfterMs !== undefined ? `, retry after ${error.retryAfterMs} ms` : ''}`);
  if (error.details !== undefined) lines.push(`  details: ${JSON.stringify(error.details)}`);
  io.stderr.write(`${lines.join('\n')}\n`);
  return error.code === 'DISCONNECTED' || error.code === 'UNAUTHORIZED' ? EXIT.connection : EXIT.requestFailed;
}

function parsePayload(json: string): Record<string, unknown> {
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch (error) {
    throw new UsageError(`The payload is not valid JSON: ${(error as Error).message}`);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new UsageError('The payload must be a JSON object');
  return payload as Record<string, unknown>;
}

function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (!(Number.isFinite(ms) && ms > 0)) throw new UsageError('--timeout must be a positive number of milliseconds');
  return ms;
}

function requestIdArgument(cli: ParsedCli, command: string): string {
  const [requestId, ...extra] = cli.args;
  if (requestId === undefined || extra.length > 0) throw new UsageError(`${command} needs exactly one requestId`);
  return requestId;
}

function permissionsOf(cli: ParsedCli): string[] | undefined {
  return cli.values.permissions?.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
}

function devSecret(io: CliIo): string | undefined {
  return io.env.STREAMER_JWT_SECRET?.trim() || undefined;
}

function printJson(out: OutputStream, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

if (require.main === module) {
  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\ninterrupted: cancelling…\n');
    interrupt.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  void runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, interrupt: interrupt.signal }).then((code) => {
    process.exitCode = code;
  });
}
