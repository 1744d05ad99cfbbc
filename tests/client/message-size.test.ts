/**
 * The Node client within API Gateway's limits, against the real local
 * gateway (stub functions, loopback): requests over the 32 KB frame limit
 * go out in fragments the gateway accepts, up to the 128 KB message limit.
 */
import { WEBSOCKET_LIMITS } from '../../functions/core/aws-limits';
import { MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, StreamerClient } from '../../client/node';
import { startStubGateway, type StubGateway } from '../support/stub-gateway';

let stub: StubGateway;
let client: StreamerClient | undefined;

beforeEach(async () => {
  stub = await startStubGateway();
});

afterEach(async () => {
  client?.close();
  client = undefined;
  await stub.stop();
});

function connect(): StreamerClient {
  client = new StreamerClient(stub.url, { token: 't', heartbeat: false, reconnect: false });
  return client;
}

describe('request size in the Node client', () => {
  it('exports API Gateway’s frame and message limits', () => {
    expect(MAX_FRAME_BYTES).toBe(WEBSOCKET_LIMITS.maxFrameBytes);
    expect(MAX_MESSAGE_BYTES).toBe(WEBSOCKET_LIMITS.maxMessageBytes);
  });

  it('round-trips a 100 KB payload through the local gateway without breaking the 32 KB frame limit', async () => {
    const node = connect();
    await node.ready();
    const payload = { blob: 'é'.repeat(25 * 1024) + 'x'.repeat(50 * 1024) }; // 100 KB of UTF-8, multi-byte characters cut across frames
    await expect(node.request('echo', payload)).resolves.toEqual(payload);
    expect(Buffer.byteLength(stub.messages[0]!.body!)).toBeGreaterThan(100 * 1024);
    expect(stub.disconnectCodes).toEqual([]);
  });

  it('still sends small requests as they are', async () => {
    const node = connect();
    await node.ready();
    await expect(node.request('echo', { n: 1 })).resolves.toEqual({ n: 1 });
    expect(JSON.parse(stub.messages[0]!.body!)).toMatchObject({ action: 'echo', payload: { n: 1 } });
  });
});
