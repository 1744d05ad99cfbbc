/**
 * The runtime as a process: start-up time, API Gateway's connection limits,
 * graceful shutdown, no orphaned DynamoDB Local after a SIGKILL, and
 * persisted tables.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { FIXTURE_FUNCTIONS_DIR, type LocalRuntimeHandle, startLocalRuntime } from '../support/local-runtime';
import { openSocket } from '../support/socket-client';

jest.setTimeout(60_000);

const fixtures = { STREAMER_LOCAL_FUNCTIONS_DIR: FIXTURE_FUNCTIONS_DIR };
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
  } catch {
    return [];
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const state = execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return state !== '' && !state.startsWith('Z');
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

describe('API Gateway connection limits', () => {
  let runtime: LocalRuntimeHandle;

  beforeAll(async () => {
    runtime = await startLocalRuntime({
      env: { ...fixtures, STREAMER_LOCAL_IDLE_TIMEOUT_MS: '400', STREAMER_LOCAL_MAX_CONNECTION_MS: '1500' },
    });
  });
  afterAll(() => runtime?.stop());

  const url = (): string => `${runtime.wsUrl}/?token=${runtime.mintToken({ sub: 'alice', tenant: 'acme' })}`;

  it('closes a connection idle longer than the idle timeout with 1001', async () => {
    const socket = await openSocket(url());
    const started = Date.now();
    expect((await socket.closed()).code).toBe(1001);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
  });

  it('closes even a busy connection at the maximum connection duration', async () => {
    const socket = await openSocket(url());
    const started = Date.now();
    const chatter = setInterval(() => socket.send({ id: 'k', action: 'echo' }), 100);
    const { code } = await socket.closed();
    clearInterval(chatter);
    expect(code).toBe(1001);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });
});

describe('the runtime process', () => {
  it('starts within 15 seconds and shuts down on SIGTERM, closing sockets with 1001 and stopping DynamoDB Local', async () => {
    const started = Date.now();
    const runtime = await startLocalRuntime({ env: fixtures });
    expect(Date.now() - started).toBeLessThan(15_000);
    const children = childPids(runtime.process.pid!);
    expect(children.length).toBeGreaterThan(0);

    const socket = await openSocket(`${runtime.wsUrl}/?token=${runtime.mintToken({ sub: 'a', tenant: 't' })}`);
    const closed = socket.closed();
    await runtime.stop();
    expect((await closed).code).toBe(1001);
    expect(runtime.process.exitCode).toBe(0);
    expect(await waitUntil(() => children.every((pid) => !isAlive(pid)), 5000)).toBe(true);
  });

  it('leaves no DynamoDB Local behind when it is killed with SIGKILL', async () => {
    const runtime = await startLocalRuntime({ env: fixtures });
    const children = childPids(runtime.process.pid!);
    expect(children.length).toBeGreaterThan(0);
    runtime.process.kill('SIGKILL');
    await runtime.stop();
    expect(await waitUntil(() => children.every((pid) => !isAlive(pid)), 8000)).toBe(true);
  });

  it('keeps tables between runs with --persist', async () => {
    const persistDir = mkdtempSync(join(tmpdir(), 'streamer-persist-'));
    try {
      const first = await startLocalRuntime({ env: fixtures, persistDir });
      const firstClient = new DynamoDBClient({ endpoint: first.dynamodbEndpoint, region: 'us-east-1', credentials });
      await firstClient.send(
        new PutItemCommand({ TableName: first.tableName('connections'), Item: { connection_id: { S: 'kept' } } }),
      );
      firstClient.destroy();
      await first.stop();

      const second = await startLocalRuntime({ env: fixtures, persistDir });
      const secondClient = new DynamoDBClient({ endpoint: second.dynamodbEndpoint, region: 'us-east-1', credentials });
      const { Item } = await secondClient.send(
        new GetItemCommand({ TableName: second.tableName('connections'), Key: { connection_id: { S: 'kept' } } }),
      );
      secondClient.destroy();
      await second.stop();
      expect(Item).toEqual({ connection_id: { S: 'kept' } });
    } finally {
      rmSync(persistDir, { recursive: true, force: true });
    }
  });

  it('fails fast with a clear message when the functions are not built', async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'streamer-no-functions-'));
    try {
      await expect(startLocalRuntime({ env: { STREAMER_LOCAL_FUNCTIONS_DIR: emptyDir } })).rejects.toThrow(/build the functions first/);
    } finally {
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });
});
