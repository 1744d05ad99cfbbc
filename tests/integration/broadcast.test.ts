/**
 * Broadcasts end to end, with the shipped `notify` handler: a sync notice
 * leaves from the router, a queued one (`afterMs`) from the processor, each
 * finding its audience through the connections table's `by_user` or
 * `by_tenant` index, with the function's own role checked on every call.
 * Real function bundles, real DynamoDB Local, real sockets.
 */
import { type LocalRuntimeHandle, startLocalRuntime } from '../support/local-runtime';
import { openSocket, type TestSocket } from '../support/socket-client';

jest.setTimeout(60_000);

type Message = { id?: string | null; type?: string; topic?: string; data?: unknown; success?: boolean };

let runtime: LocalRuntimeHandle;

beforeAll(async () => {
  runtime = await startLocalRuntime({ env: { STREAMER_LOCAL_LOG_LEVEL: 'warn' }, stack: { logLevel: 'ERROR' } });
});
afterAll(() => runtime?.stop());

const connect = (sub: string, tenant: string): Promise<TestSocket> => openSocket(`${runtime.wsUrl}?token=${runtime.mintToken({ sub, tenant })}`);

const broadcastsOn = (socket: TestSocket, topic: string): Message[] =>
  (socket.received as Message[]).filter((m) => m.type === 'broadcast' && m.topic === topic);

/** Lets any message that would still come (a wrong recipient's) arrive before asserting it did not. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 500));

describe.each([
  ['sync, from the router', 0],
  ['queued, from the processor', 200],
])('a notice sent %s', (_path, afterMs) => {
  let sockets: TestSocket[] = [];
  afterEach(async () => {
    await Promise.all(sockets.map((socket) => socket.close()));
    sockets = [];
  });

  it("reaches every open connection of the sender's user, and no other user's", async () => {
    const tenant = `bc-user-${afterMs}`;
    const [phone, laptop, colleague, elsewhere] = (sockets = await Promise.all([
      connect('alice', tenant),
      connect('alice', tenant),
      connect('bob', tenant),
      connect('alice', `${tenant}-other`),
    ]));
    phone.send({ id: 'n1', action: 'notify', payload: { scope: 'user', topic: 'tabs', text: 'saved', afterMs } });

    const result = await phone.next<Message>((m) => m.id === 'n1' && m.type === 'result');
    expect(result).toMatchObject({ success: true, data: { delivered: 2 } });
    const notice = { id: null, type: 'broadcast', topic: 'tabs', data: { from: 'alice', text: 'saved' } };
    await expect(laptop.next((m: Message) => m.type === 'broadcast')).resolves.toEqual(notice);
    await expect(phone.next((m: Message) => m.type === 'broadcast')).resolves.toEqual(notice);
    await settle();
    expect([broadcastsOn(colleague, 'tabs'), broadcastsOn(elsewhere, 'tabs')]).toEqual([[], []]);
  });

  it("reaches every connection of the sender's tenant, and none of another tenant's", async () => {
    const tenant = `bc-tenant-${afterMs}`;
    const [sender, colleague, rival] = (sockets = await Promise.all([
      connect('carol', tenant),
      connect('dave', tenant),
      connect('carol', `${tenant}-rival`),
    ]));
    sender.send({ id: 'n2', action: 'notify', payload: { scope: 'tenant', topic: 'team', text: 'deploy at noon', afterMs } });

    await expect(sender.next((m: Message) => m.id === 'n2' && m.type === 'result')).resolves.toMatchObject({ data: { delivered: 2 } });
    await expect(colleague.next((m: Message) => m.type === 'broadcast')).resolves.toEqual({
      id: null,
      type: 'broadcast',
      topic: 'team',
      data: { from: 'carol', text: 'deploy at noon' },
    });
    await settle();
    expect(broadcastsOn(rival, 'team')).toEqual([]);
  });
});

it('acknowledges a notice with afterMs as a queued request before it goes out', async () => {
  const socket = await connect('erin', 'bc-queued');
  try {
    socket.send({ id: 'later', action: 'notify', payload: { topic: 'reminder', text: 'stand-up', afterMs: 300 } });
    const first = await socket.next<Message & { requestId?: string }>((m) => m.id === 'later' || m.type === 'broadcast');
    expect(first).toMatchObject({ id: 'later', type: 'ack', status: 'queued' });
    await socket.next((m: Message) => m.id === 'later' && m.type === 'result');
    expect(broadcastsOn(socket, 'reminder')).toEqual([{ id: null, type: 'broadcast', topic: 'reminder', data: { from: 'erin', text: 'stand-up' } }]);
  } finally {
    await socket.close();
  }
});
