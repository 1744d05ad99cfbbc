/**
 * A stream record the processor can never handle ends in the event source
 * mapping's on-failure destination (the dead-letter queue, sent with the
 * processor role's `sqs:SendMessage`) after the mapping's retries, instead
 * of being retried forever. The poison here is a queued request item written
 * by something other than the router (a hand edit, another tool) with
 * `attempts` stored as a string: every claim's `attempts + 1` fails.
 * Real bundles, real DynamoDB Local, the deployed mapping's settings.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { StreamFailureRecord } from '../../local/dead-letters';
import { REQUEST_STREAM_MAPPING } from '../../functions/core/cloud-shapes';
import { type LocalRuntimeHandle, startLocalRuntime } from '../support/local-runtime';
import { openSocket } from '../support/socket-client';
import { tableReader, type TableReader } from '../support/table-reader';
import { waitFor } from '../support/wait-for';

jest.setTimeout(60_000);

let runtime: LocalRuntimeHandle;
let tables: TableReader;

beforeAll(async () => {
  // Short pauses between the mapping's retries (the runtime's own setting); the retry count is the deployment's.
  runtime = await startLocalRuntime({ env: { STREAMER_LOCAL_LOG_LEVEL: 'error', STREAMER_LOCAL_STREAM_RETRY_MS: '50' }, stack: { logLevel: 'ERROR' } });
  tables = tableReader(runtime);
});
afterAll(async () => {
  tables?.destroy();
  await runtime?.stop();
});

const deadLetters = async (): Promise<StreamFailureRecord[]> => (await fetch(`${runtime.httpUrl}/_local/dead-letters`)).json() as Promise<StreamFailureRecord[]>;
const requestIdsIn = (entry: StreamFailureRecord): string[] => entry._local.records.map((record) => record.dynamodb?.NewImage?.request_id?.S ?? '');

it('dead-letters a queued request the processor can never claim after the mapping’s retries, and keeps running the others', async () => {
  const now = Date.now();
  const poison = `poison-${now}`;
  await tables.db.send(
    new PutCommand({
      TableName: runtime.tableName('requests'),
      Item: {
        request_id: poison,
        connection_id: 'none',
        client_id: 'hand-written',
        user_id: 'operator',
        tenant_id: 'acme',
        action: 'generate_report',
        payload: { rows: 1 },
        status: 'queued',
        progress: 0,
        attempts: '0',
        max_retries: 3,
        created_at: now,
        updated_at: now,
        ttl: Math.floor(now / 1000) + 3600,
      },
    }),
  );

  const socket = await openSocket(`${runtime.wsUrl}?token=${runtime.mintToken({ sub: 'alice', tenant: 'acme' })}`);
  try {
    socket.send({ id: 'fine', action: 'generate_report', payload: { rows: 2, stepDelayMs: 0 } });
    await expect(socket.next((m: { id?: string; type?: string }) => m.id === 'fine' && m.type === 'result', 20_000)).resolves.toMatchObject({ success: true });
  } finally {
    await socket.close();
  }

  await waitFor(async () => (await deadLetters()).some((entry) => requestIdsIn(entry).includes(poison)), 30_000, 100);
  const entry = (await deadLetters()).find((candidate) => requestIdsIn(candidate).includes(poison))!;
  expect(entry).toMatchObject({
    requestContext: {
      condition: 'RetryAttemptsExhausted',
      functionArn: expect.stringContaining(`:function:${runtime.functionName('processor')}`),
      // The first delivery and every retry the deployed mapping allows.
      approximateInvokeCount: REQUEST_STREAM_MAPPING.maximumRetryAttempts + 1,
    },
    DDBStreamBatchInfo: { streamArn: expect.stringContaining(`table/${runtime.tableName('requests')}/stream/`) },
  });
  expect(entry._local.records.map((record) => record.eventName)).toContain('INSERT');
  // Nothing ran it: the item is as it was written, for an operator to mend and re-queue.
  const stored = await tables.db.send(new GetCommand({ TableName: runtime.tableName('requests'), Key: { request_id: poison }, ConsistentRead: true }));
  expect(stored.Item).toMatchObject({ status: 'queued', attempts: '0' });
  expect(runtime.output()).not.toContain('ACCESS DENIED');
});
