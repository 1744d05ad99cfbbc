/**
 * The terminal client in-process (`runCli`) against the scripted server:
 * output streams and the exit codes scripts rely on.
 */
import jwt from 'jsonwebtoken';
import { EXIT, runCli, type CliIo } from '../../client/cli/main';
import { FakeStreamerServer } from './fake-server';

let server: FakeStreamerServer;

beforeEach(async () => {
  server = await FakeStreamerServer.start();
});

afterEach(async () => {
  await server.stop();
});

function captureIo(env: Record<string, string | undefined> = {}, options: { tty?: boolean; interrupt?: AbortSignal } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (t: string) => out.push(t), isTTY: options.tty },
    stderr: { write: (t: string) => err.push(t), isTTY: options.tty, columns: 60 },
    env: { STREAMER_URL: server.url, ...env },
    interrupt: options.interrupt,
  };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}

test('request prints the result as JSON on stdout and exits 0', async () => {
  server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'result', success: true, data: frame.payload }));
  const { io, stdout } = captureIo();
  await expect(runCli(['request', 'echo', '{"hello":"world"}'], io)).resolves.toBe(EXIT.ok);
  expect(JSON.parse(stdout())).toEqual({ hello: 'world' });
});

test('progress is one plain line per update when stderr is not a terminal', async () => {
  server.onFrame((frame, socket) => {
    server.send(socket, { id: frame.id, type: 'ack', requestId: 'r-1', status: 'queued' });
    server.send(socket, { id: frame.id, type: 'progress', requestId: 'r-1', progress: 0.5, message: 'Halfway' });
    server.send(socket, { id: frame.id, type: 'result', requestId: 'r-1', success: true, data: { ok: true } });
  });
  const { io, stderr } = captureIo();
  await expect(runCli(['request', 'generate_report', '{"rows":2}'], io)).resolves.toBe(EXIT.ok);
  expect(stderr()).toBe('accepted r-1\nprogress  50% Halfway\n');
});

test('progress is a redrawn bar on a terminal', async () => {
  server.onFrame((frame, socket) => {
    server.send(socket, { id: frame.id, type: 'ack', requestId: 'r-1', status: 'queued' });
    server.send(socket, { id: frame.id, type: 'progress', requestId: 'r-1', progress: 0.25, message: 'Loading' });
    server.send(socket, { id: frame.id, type: 'result', requestId: 'r-1', success: true, data: 1 });
  });
  const { io, stderr } = captureIo({}, { tty: true });
  await runCli(['request', 'generate_report', '{"rows":2}'], io);
  expect(stderr()).toContain('\r\x1b[2K[██████░░░░░░░░░░░░░░░░░░]  25% Loading');
});

test('a request error is printed readably and exits 1', async () => {
  server.onFrame((frame, socket) =>
    server.send(socket, { id: frame.id, type: 'error', error: { code: 'VALIDATION_ERROR', message: 'rows must be a positive integer', retryable: false, details: { field: 'rows' } } }),
  );
  const { io, stderr, stdout } = captureIo();
  await expect(runCli(['request', 'generate_report', '{"rows":0}'], io)).resolves.toBe(EXIT.requestFailed);
  expect(stderr()).toBe('error VALIDATION_ERROR: rows must be a positive integer\n  retryable: no\n  details: {"field":"rows"}\n');
  expect(stdout()).toBe('');
});

test.each([
  [['request', 'echo', '{not json'], 'not valid JSON'],
  [['request', 'echo', '[1]'], 'must be a JSON object'],
  [['request'], 'needs an action'],
  [['frobnicate'], 'Unknown command'],
  [['status'], 'exactly one requestId'],
  [['request', 'echo', '--bogus'], "Unknown option '--bogus'"],
  [['token', '--sub', 'alice'], 'needs --sub and --tenant'],
])('usage errors exit 2: %j', async (argv, message) => {
  const { io, stderr } = captureIo();
  await expect(runCli(argv, io)).resolves.toBe(EXIT.usage);
  expect(stderr()).toContain(message);
  expect(server.handshakes).toHaveLength(0);
});

test('a refused token exits 3', async () => {
  server.refuseWith = 401;
  const { io, stderr } = captureIo({ STREAMER_TOKEN: 'bad' });
  await expect(runCli(['status', 'r-1'], io)).resolves.toBe(EXIT.connection);
  expect(stderr()).toContain('error UNAUTHORIZED');
  expect(server.handshakes.map((h) => h.token)).toEqual(['bad']);
});

test('an unreachable server exits 3', async () => {
  const url = server.url;
  await server.stop();
  server = await FakeStreamerServer.start(); // for afterEach; the CLI is pointed at the stopped one
  const { io, stderr } = captureIo();
  await expect(runCli(['status', 'r-1', '--url', url], io)).resolves.toBe(EXIT.connection);
  expect(stderr()).toContain('error DISCONNECTED');
});

test('without a token it mints a dev token for --sub/--tenant', async () => {
  server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'cancelled', requestId: frame.payload.requestId }));
  const { io, stdout } = captureIo({ STREAMER_JWT_SECRET: 'test-secret' });
  await expect(runCli(['cancel', 'r-5', '--sub', 'alice', '--tenant', 'acme'], io)).resolves.toBe(EXIT.ok);
  expect(stdout()).toBe('cancelled r-5\n');
  const claims = jwt.verify(server.handshakes[0]!.token!, 'test-secret') as Record<string, unknown>;
  expect(claims).toMatchObject({ sub: 'alice', tenant_id: 'acme' });
});

test('token prints a development token without connecting', async () => {
  const { io, stdout } = captureIo({ STREAMER_JWT_SECRET: 'test-secret' });
  await expect(runCli(['token', '--sub', 'alice', '--tenant', 'acme', '--permissions', 'reports:read, admin'], io)).resolves.toBe(EXIT.ok);
  const claims = jwt.verify(stdout().trim(), 'test-secret') as Record<string, unknown>;
  expect(claims).toMatchObject({ sub: 'alice', tenant_id: 'acme', permissions: ['reports:read', 'admin'] });
  expect(server.handshakes).toHaveLength(0);
});

test('Ctrl-C cancels the running request on the server and exits 1', async () => {
  const interrupt = new AbortController();
  server.onFrame((frame, socket) => {
    if (frame.action === 'cancel') {
      server.send(socket, { id: frame.id, type: 'cancelled', requestId: frame.payload.requestId });
      return;
    }
    server.send(socket, { id: frame.id, type: 'ack', requestId: 'r-long', status: 'queued' });
    server.send(socket, { id: frame.id, type: 'progress', requestId: 'r-long', progress: 0.1 });
    setTimeout(() => interrupt.abort(), 10);
  });
  const { io, stderr } = captureIo({}, { interrupt: interrupt.signal });
  await expect(runCli(['request', 'generate_report', '{"rows":9}'], io)).resolves.toBe(EXIT.requestFailed);
  expect(server.framesOf('cancel').map((f) => f.payload)).toContainEqual({ requestId: 'r-long' });
  expect(stderr()).toContain('cancelled r-long');
  expect(stderr()).toContain('error CANCELLED');
});

test('subscribe follows a request to its result', async () => {
  server.onFrame((frame, socket) => {
    const requestId = frame.payload.requestId as string;
    server.send(socket, { id: frame.id, type: 'subscribed', requestId });
    server.send(socket, { id: frame.id, type: 'progress', requestId, progress: 0.9, message: 'Almost' });
    server.send(socket, { id: frame.id, type: 'result', requestId, success: true, data: { rows: 3 } });
  });
  const { io, stdout, stderr } = captureIo();
  await expect(runCli(['subscribe', 'r-3'], io)).resolves.toBe(EXIT.ok);
  expect(JSON.parse(stdout())).toEqual({ rows: 3 });
  expect(stderr()).toContain('progress  90% Almost');
});

test('status prints the request view', async () => {
  const view = { requestId: 'r-4', action: 'echo', status: 'completed', progress: 1, createdAt: 1, updatedAt: 2, result: 'x' };
  server.onFrame((frame, socket) => server.send(socket, { id: frame.id, type: 'status', request: view }));
  const { io, stdout } = captureIo();
  await expect(runCli(['status', 'r-4'], io)).resolves.toBe(EXIT.ok);
  expect(JSON.parse(stdout())).toEqual(view);
});
