/**
 * The handshake edge of the local gateway, with raw TCP clients: a client
 * that leaves at any point of the handshake still gets its `$disconnect`
 * when `$connect` succeeded, and headers over Node's limit get 431, never a
 * reset.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { answerClientError } from '../../local/http-client-errors';
import { type StubGateway, startStubGateway } from '../support/stub-gateway';
import { waitFor } from '../support/wait-for';

jest.setTimeout(30_000);

function upgradeRequest(port: number, extraHeaders = ''): string {
  return [
    'GET /?token=t HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    extraHeaders,
    '',
    '',
  ]
    .filter((line, index, lines) => line !== '' || index >= lines.length - 2)
    .join('\r\n');
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Opens a raw TCP connection; resolves once it is connected. */
function rawClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('a client that leaves during the handshake', () => {
  let stub: StubGateway;
  afterEach(async () => stub.stop());

  it('gets exactly one $disconnect for every $connect that succeeded, wherever it left (50 tries)', async () => {
    stub = await startStubGateway({ connectDelayMs: 2 });
    const port = portOf(stub.url);
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const socket = await rawClient(port);
      socket.on('error', () => undefined);
      socket.write(upgradeRequest(port));
      const leave = (): void => {
        // Alternate a FIN (destroy) and a reset, the two ways a client vanishes.
        if (attempt % 2 === 0) socket.destroy();
        else socket.resetAndDestroy();
      };
      const point = attempt % 5;
      if (point === 0) leave();
      else if (point === 1) setImmediate(leave);
      else if (point === 4) socket.once('data', leave);
      else setTimeout(leave, point - 1);
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        // Bounded: a client that was never told anything still goes.
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 1_000).unref();
      });
    }
    await waitFor(() => stub.gateway.list().length === 0 && stub.disconnectCodes.length === stub.connects());
    expect(stub.connects()).toBeGreaterThan(0);
    expect(stub.disconnectCodes).toHaveLength(stub.connects());
  });

  it('answers a request that is no WebSocket handshake with 400, without running $connect', async () => {
    stub = await startStubGateway();
    const port = portOf(stub.url);
    const socket = await rawClient(port);
    const answer = readAll(socket);
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`);
    expect(await answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(stub.connects()).toBe(0);
  });
});

function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(text));
  });
}

describe('oversized request headers', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((_request, response) => response.writeHead(200).end('ok'));
    server.on('clientError', answerClientError);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ({ port } = server.address() as AddressInfo);
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers a 100 KB Authorization header with 431 and a body, not a reset', async () => {
    const socket = await rawClient(port);
    const answer = readAll(socket);
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${'a'.repeat(100 * 1024)}\r\n\r\n`);
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(text).toContain('{"message":"Request Header Fields Too Large"}');
  });

  it('answers a WebSocket upgrade with a 40 KB query string with 431', async () => {
    const socket = await rawClient(port);
    const answer = readAll(socket);
    socket.write(upgradeRequest(port).replace('/?token=t', `/?token=${'t'.repeat(40 * 1024)}`));
    expect(await answer).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('answers a malformed request line with 400', async () => {
    const socket = await rawClient(port);
    const answer = readAll(socket);
    socket.write('NOT HTTP\r\n\r\n');
    expect(await answer).toMatch(/^HTTP\/1\.1 400 /);
  });
});
