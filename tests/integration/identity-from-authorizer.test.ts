/**
 * Issue #14: the router knows who sent a frame from the event itself (the
 * `$connect` authorizer's context, which API Gateway attaches to every
 * frame), so a sync echo on a connection no router instance has seen reads
 * nothing from the connections table: against the local runtime running the
 * real bundles, counted at its IAM-checked DynamoDB front.
 */
import { type LocalRuntimeHandle, startLocalRuntime } from '../support/local-runtime';
import { openSocket, type TestSocket } from '../support/socket-client';

jest.setTimeout(60_000);

let runtime: LocalRuntimeHandle;

beforeAll(async () => {
  runtime = await startLocalRuntime({ env: { STREAMER_LOCAL_LOG_LEVEL: 'warn' }, stack: { logLevel: 'ERROR' } });
});
afterAll(async () => {
  await runtime.stop();
});

type Calls = Record<string, Record<string, Record<string, number>>>;

async function callsOf(logical: string): Promise<Record<string, Record<string, number>>> {
  const all = (await (await fetch(`${runtime.httpUrl}/_local/dynamodb-calls`)).json()) as Calls;
  return all[runtime.functionName(logical)] ?? {};
}

/** Calls made between two readings, by table then operation (tables that saw none left out). */
function delta(before: Record<string, Record<string, number>>, after: Record<string, Record<string, number>>): Record<string, Record<string, number>> {
  const changed: Record<string, Record<string, number>> = {};
  for (const [table, operations] of Object.entries(after)) {
    for (const [operation, count] of Object.entries(operations)) {
      const made = count - (before[table]?.[operation] ?? 0);
      if (made > 0) (changed[table] ??= {})[operation] = made;
    }
  }
  return changed;
}

async function echo(socket: TestSocket, id: string): Promise<unknown> {
  socket.send({ id, action: 'echo', payload: { n: id } });
  return socket.next<{ id: string }>((m) => m.id === id);
}

const connect = (): Promise<TestSocket> => openSocket(`${runtime.wsUrl}/?token=${runtime.mintToken({ sub: 'alice', tenant: 'acme', permissions: ['reports:read'] })}`);

describe('the identity of a frame', () => {
  it('reaches the router with the frame: a sync echo on a connection it has never seen reads nothing from the connections table', async () => {
    const connections = runtime.tableName('connections');
    const rateLimits = runtime.tableName('rate-limits');
    // Warm the router's containers and this user's rate-limit leases on another connection.
    const warm = await connect();
    for (let i = 0; i < 10; i++) await echo(warm, `warm-${i}`);

    const before = await callsOf('router');
    const fresh = await connect();
    await expect(echo(fresh, 'fresh-1')).resolves.toMatchObject({ type: 'result', success: true, data: { n: 'fresh-1' } });
    await expect(echo(fresh, 'fresh-2')).resolves.toMatchObject({ type: 'result', success: true });
    const made = delta(before, await callsOf('router'));

    expect(made[connections]).toBeUndefined();
    // Anything else could only be the shared rate limit's lease traffic (with the leases the warm-up took: none), never a read of who is calling.
    expect(Object.keys(made).filter((table) => table !== rateLimits)).toEqual([]);
    // connect stored the record (broadcasts and listByUser still need it), with the identity the authorizer verified.
    expect((await callsOf('connect'))[connections]).toMatchObject({ PutItem: 2 });
    // Only the authorizer reads the token key; it touches no table.
    expect(await callsOf('authorizer')).toEqual({});
    await warm.close();
    await fresh.close();
  });
});
