/**
 * API Gateway's frame and message limits in the local gateway, over real
 * loopback sockets, with stub functions (see `tests/support/stub-gateway.ts`):
 * a frame over 32 KB closes with 1009, a message of up to 128 KB in frames
 * of at most 32 KB reaches `$default` whole, a message over 128 KB closes
 * with 1009 however it is fragmented.
 */
import WebSocket from 'ws';
import { WEBSOCKET_LIMITS } from '../../functions/core/aws-limits';
import { FrameSizeInspector } from '../../local/websocket-frame-limit';
import { startStubGateway, type StubGateway } from '../support/stub-gateway';
import { waitFor } from '../support/wait-for';

const KB = 1024;
const { maxFrameBytes, maxMessageBytes } = WEBSOCKET_LIMITS;

let stub: StubGateway;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  stub = await startStubGateway();
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await stub.stop();
});

async function open(): Promise<{ socket: WebSocket; closed: Promise<number>; replies: string[] }> {
  const socket = new WebSocket(stub.url, { perMessageDeflate: false });
  sockets.push(socket);
  const replies: string[] = [];
  socket.on('message', (data) => replies.push(data.toString()));
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { socket, closed, replies };
}

/** Sends `text` as one message in fragments of `fragmentBytes` (the last may be shorter). */
function sendInFragments(socket: WebSocket, text: string, fragmentBytes: number): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let start = 0; start < bytes.length; start += fragmentBytes) {
    const end = Math.min(start + fragmentBytes, bytes.length);
    socket.send(bytes.subarray(start, end), { binary: false, fin: end === bytes.length });
  }
}

/** A JSON echo request of exactly `bytes` UTF-8 bytes. */
function echoRequest(id: string, bytes: number): string {
  const envelope = JSON.stringify({ id, action: 'echo', payload: { s: '' } });
  return JSON.stringify({ id, action: 'echo', payload: { s: 'x'.repeat(bytes - envelope.length) } });
}

describe('the local gateway’s frame limit', () => {
  it('closes a connection with 1009 when one frame is 40 KB, and never routes that frame', async () => {
    const { socket, closed } = await open();
    socket.send(echoRequest('big', 40 * KB));
    expect(await closed).toBe(1009);
    await waitFor(() => stub.disconnectCodes.length === 1);
    expect(stub.disconnectCodes).toEqual([1009]);
    expect(stub.messages).toHaveLength(0);
  });

  it('accepts a frame of exactly 32 KB', async () => {
    const { socket, replies } = await open();
    const request = echoRequest('edge', maxFrameBytes);
    expect(Buffer.byteLength(request)).toBe(maxFrameBytes);
    socket.send(request);
    await stub.messageCount(1);
    expect(stub.messages[0]!.body).toBe(request);
    await waitFor(() => replies.length === 1);
    expect(socket.readyState).toBe(WebSocket.OPEN);
  });

  it('closes with 1009 when a fragment inside an otherwise small enough message is over 32 KB', async () => {
    const { socket, closed } = await open();
    sendInFragments(socket, echoRequest('mixed', 60 * KB), 40 * KB);
    expect(await closed).toBe(1009);
    expect(stub.messages).toHaveLength(0);
  });
});

describe('the local gateway’s message limit', () => {
  it('delivers a 100 KB message sent as four fragments of at most 32 KB to $default as one message', async () => {
    const { socket, replies } = await open();
    const request = echoRequest('fragmented', 100 * KB);
    sendInFragments(socket, request, maxFrameBytes); // 32 + 32 + 32 + 4 KB
    await stub.messageCount(1);
    expect(stub.messages).toHaveLength(1);
    expect(stub.messages[0]!.body).toBe(request);
    // The echo goes back through @connections, over 32 KB too: the gateway frames it within the limit.
    await waitFor(() => replies.length === 1);
    expect(JSON.parse(replies[0]!)).toMatchObject({ id: 'fragmented', type: 'result', data: { s: expect.any(String) } });
  });

  it('delivers a message of exactly 128 KB in 32 KB fragments', async () => {
    const { socket } = await open();
    const request = echoRequest('edge', maxMessageBytes);
    sendInFragments(socket, request, maxFrameBytes);
    await stub.messageCount(1);
    expect(Buffer.byteLength(stub.messages[0]!.body!)).toBe(maxMessageBytes);
  });

  it('closes with 1009 on a 130 KB message, even in fragments of 32 KB or less', async () => {
    const { socket, closed } = await open();
    sendInFragments(socket, echoRequest('too-big', 130 * KB), 16 * KB);
    expect(await closed).toBe(1009);
    await waitFor(() => stub.disconnectCodes.length === 1);
    expect(stub.disconnectCodes).toEqual([1009]);
    expect(stub.messages).toHaveLength(0);
  });

  it('keeps serving a connection’s later messages after a fragmented one', async () => {
    const { socket } = await open();
    sendInFragments(socket, echoRequest('first', 70 * KB), maxFrameBytes);
    socket.send(echoRequest('second', 100));
    await stub.messageCount(2);
    expect(stub.messages.map((event) => (JSON.parse(event.body!) as { id: string }).id)).toEqual(['first', 'second']);
  });
});

describe('@connections data from the local gateway', () => {
  it('arrives in frames of at most 32 KB, whole', async () => {
    const { socket, replies } = await open();
    // Watch the client's raw incoming bytes (ws's underlying socket) with the inspector the gateway uses.
    const inspector = new FrameSizeInspector(maxFrameBytes);
    (socket as unknown as { _socket: NodeJS.EventEmitter })._socket.prependListener('data', (chunk: Buffer) => inspector.inspect(chunk));
    socket.send(echoRequest('who', 100));
    await stub.messageCount(1);
    const connectionId = stub.messages[0]!.requestContext.connectionId;
    await waitFor(() => replies.length === 1);
    const data = JSON.stringify({ text: 'z'.repeat(100 * KB) });
    expect(stub.gateway.post(connectionId, Buffer.from(data))).toBe('sent');
    await waitFor(() => replies.length === 2);
    expect(replies[1]).toBe(data);
    expect(inspector.tripped).toBeUndefined();
  });

  it('is refused over 128 KB', async () => {
    await open();
    await waitFor(() => stub.gateway.list().length === 1);
    const [connection] = stub.gateway.list();
    expect(stub.gateway.post(connection!.connectionId, Buffer.alloc(maxMessageBytes + 1, 0x61))).toBe('too-large');
    expect(stub.gateway.post(connection!.connectionId, Buffer.alloc(maxMessageBytes, 0x61))).toBe('sent');
  });
});
