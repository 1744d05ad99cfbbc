/**
 * The local gateway keeps one client from taking the runtime's memory or its
 * function containers, over real loopback sockets around stub functions:
 * a client that stops reading is closed with 1013 once its send buffer is
 * full; a connection's flood of frames waits behind itself, and past its
 * queue bound is throttled with API Gateway's "Too Many Requests" frame.
 * Everything is counted, nothing is timed.
 */
import WebSocket from 'ws';
import type { Socket } from 'node:net';
import { LOCAL_GATEWAY_LIMITS, SEND_BUFFER_FULL_CLOSE_CODE } from '../../local/websocket-gateway';
import { type TestSocket, openSocket } from '../support/socket-client';
import { type StubGateway, type StubGatewayOptions, startStubGateway } from '../support/stub-gateway';
import { waitFor } from '../support/wait-for';

jest.setTimeout(30_000);

let stub: StubGateway | undefined;
const sockets: TestSocket[] = [];

async function start(options: StubGatewayOptions): Promise<StubGateway> {
  stub = await startStubGateway(options);
  return stub;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.socket.terminate();
  await stub?.stop();
  stub = undefined;
});

async function open(gateway: StubGateway): Promise<TestSocket> {
  const socket = await openSocket(gateway.url);
  sockets.push(socket);
  return socket;
}

/** The raw TCP socket under a `ws` client, to stop reading from it. */
function rawSocketOf(socket: WebSocket): Socket {
  return (socket as unknown as { _socket: Socket })._socket;
}

async function connectionIdOf(gateway: StubGateway, socket: TestSocket): Promise<string> {
  const before = gateway.messages.length;
  socket.send({ id: 'who', action: 'noop' });
  await gateway.messageCount(before + 1);
  return gateway.messages[before]!.requestContext.connectionId;
}

const ECHO_PAYLOAD = { s: 'x'.repeat(100 * 1024) };

/**
 * Sends 100 KB echo requests from a client that does not read, in rounds,
 * until the gateway stops listing its connection as open (bounded in rounds),
 * and returns the largest send buffer seen.
 */
async function floodUntilClosed(gateway: StubGateway, socket: TestSocket, connectionId: string): Promise<{ peakBufferedBytes: number; sent: number }> {
  let peakBufferedBytes = 0;
  let sent = 0;
  for (let round = 0; round < 60; round += 1) {
    const described = gateway.gateway.describe(connectionId);
    if (!described || gateway.disconnectCodes.length > 0) break;
    peakBufferedBytes = Math.max(peakBufferedBytes, described.bufferedBytes);
    if (!closingOrClosed(gateway, connectionId)) {
      for (let i = 0; i < 10; i += 1) socket.send({ id: `e-${sent++}`, action: 'echo', payload: ECHO_PAYLOAD });
    }
    const target = sent + 1; // The who-am-I frame came first.
    await waitFor(() => gateway.messages.length >= target || gateway.disconnectCodes.length > 0 || closingOrClosed(gateway, connectionId));
    if (closingOrClosed(gateway, connectionId)) break;
  }
  const last = gateway.gateway.describe(connectionId);
  if (last) peakBufferedBytes = Math.max(peakBufferedBytes, last.bufferedBytes);
  return { peakBufferedBytes, sent };
}

/** The gateway refuses posts to a connection it is closing: a post of one byte answers 'gone'. */
function closingOrClosed(gateway: StubGateway, connectionId: string): boolean {
  return gateway.gateway.post(connectionId, Buffer.from('1')) === 'gone';
}

describe('a client that stops reading', () => {
  it('is closed with 1013 once its send buffer would pass the bound, and the buffer never passes it', async () => {
    const gateway = await start({});
    const client = await open(gateway);
    const connectionId = await connectionIdOf(gateway, client);
    rawSocketOf(client.socket).pause();

    const { peakBufferedBytes, sent } = await floodUntilClosed(gateway, client, connectionId);
    expect(closingOrClosed(gateway, connectionId)).toBe(true);
    expect(sent).toBeGreaterThan(0);
    expect(peakBufferedBytes).toBeLessThanOrEqual(LOCAL_GATEWAY_LIMITS.sendBufferBytes);

    // Reading again, the client gets what was buffered, then the close frame with the code.
    rawSocketOf(client.socket).resume();
    expect(await client.closed()).toEqual({ code: SEND_BUFFER_FULL_CLOSE_CODE, reason: 'Send buffer full' });
    await waitFor(() => gateway.disconnectCodes.length === 1);
    expect(gateway.disconnectCodes).toEqual([SEND_BUFFER_FULL_CLOSE_CODE]);
    expect(gateway.gateway.list()).toEqual([]);
  });

  it('is cut after the close grace when it never reads again, and its connection is gone', async () => {
    const gateway = await start({ limits: { sendBufferBytes: 256 * 1024, closeGraceMs: 200 } });
    const client = await open(gateway);
    const connectionId = await connectionIdOf(gateway, client);
    rawSocketOf(client.socket).pause();

    const { peakBufferedBytes } = await floodUntilClosed(gateway, client, connectionId);
    expect(peakBufferedBytes).toBeLessThanOrEqual(256 * 1024);
    await waitFor(() => gateway.disconnectCodes.length === 1);
    expect(gateway.disconnectCodes).toEqual([SEND_BUFFER_FULL_CLOSE_CODE]);
    expect(gateway.gateway.describe(connectionId)).toBeUndefined();
  });
});

describe('fairness between connections', () => {
  it('dispatches another connection’s frame before a flooding connection’s backlog drains', async () => {
    const maxInFlight = LOCAL_GATEWAY_LIMITS.maxInFlightPerConnection;
    const gateway = await start({ holdDefault: true });
    const flooder = await open(gateway);
    const other = await open(gateway);

    const flood = 100;
    for (let i = 0; i < flood; i += 1) flooder.send({ id: `a-${i}`, action: 'echo' });
    // Only the flooder's in-flight slots reach the function; the rest waits in its own queue.
    await gateway.messageCount(maxInFlight);
    const flooderId = gateway.messages[0]!.requestContext.connectionId;
    await waitFor(() => gateway.gateway.describe(flooderId)?.queuedFrames === flood - maxInFlight);

    other.send({ id: 'b-1', action: 'echo' });
    await gateway.messageCount(maxInFlight + 1);
    const order = gateway.messages.map((event) => (JSON.parse(event.body!) as { id: string }).id);
    expect(order.indexOf('b-1')).toBe(maxInFlight);
    expect(order.filter((id) => id.startsWith('a-'))).toHaveLength(maxInFlight);

    // Nothing accepted is lost: the backlog drains, in the order it was sent.
    gateway.releaseDefault();
    await gateway.messageCount(flood + 1);
    const flooderOrder = gateway.messages.map((event) => (JSON.parse(event.body!) as { id: string }).id).filter((id) => id.startsWith('a-'));
    expect(flooderOrder).toEqual(Array.from({ length: flood }, (_, i) => `a-${i}`));
    expect(await other.next((m) => m.id === 'b-1')).toMatchObject({ type: 'result' });
  });

  it('throttles frames past a connection’s queue bound with API Gateway’s “Too Many Requests” frame, and stays open', async () => {
    const gateway = await start({ holdDefault: true, limits: { maxInFlightPerConnection: 2, maxQueuedFramesPerConnection: 5 } });
    const flooder = await open(gateway);
    for (let i = 0; i < 10; i += 1) flooder.send({ id: `a-${i}`, action: 'echo' });

    const throttled = (): Array<Record<string, unknown>> =>
      flooder.received.filter((m): m is Record<string, unknown> => (m as { message?: unknown }).message === 'Too Many Requests');
    await waitFor(() => throttled().length === 3);
    const connectionId = gateway.messages[0]!.requestContext.connectionId;
    expect(throttled()[0]).toEqual({ message: 'Too Many Requests', connectionId, requestId: expect.any(String) });

    gateway.releaseDefault();
    await gateway.messageCount(7);
    for (let i = 0; i < 7; i += 1) expect(await flooder.next((m) => m.id === `a-${i}`)).toMatchObject({ type: 'result' });
    expect(gateway.messages).toHaveLength(7);
    expect(flooder.socket.readyState).toBe(WebSocket.OPEN);
  });
});
