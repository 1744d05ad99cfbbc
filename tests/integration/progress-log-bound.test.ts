/**
 * The progress log keeps the latest 1,000 messages of a request
 * (`PROGRESS_LOG_LIMITS.maxEntries`): a chatty request's oldest entries are
 * deleted as new ones are logged (by the processor, with its role), so a
 * client that missed everything replays the latest 1,000 and then gets the
 * final message. Real bundles, real DynamoDB Local.
 */
import { PROGRESS_LOG_LIMITS } from '../../functions/core/progress/progress-log';
import { PROGRESS_BATCHING } from '../../functions/core/progress/progress-batcher';
import { type LocalRuntimeHandle, startLocalRuntime } from '../support/local-runtime';
import { openSocket, type TestSocket } from '../support/socket-client';
import { tableReader, type TableReader } from '../support/table-reader';

jest.setTimeout(180_000);

type Message = { id?: string; type?: string; requestId?: string; seq?: number; lastSeq?: number; progress?: number };

let runtime: LocalRuntimeHandle;
let tables: TableReader;

beforeAll(async () => {
  runtime = await startLocalRuntime({ env: { STREAMER_LOCAL_LOG_LEVEL: 'warn' }, stack: { logLevel: 'ERROR' } });
  tables = tableReader(runtime);
});
afterAll(async () => {
  tables?.destroy();
  await runtime?.stop();
});

const connect = (): Promise<TestSocket> => openSocket(`${runtime.wsUrl}?token=${runtime.mintToken({ sub: 'chatty', tenant: 'acme' })}`);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

it('keeps only the latest 1,000 progress messages of a chatty request, and replays those to a client that missed everything', async () => {
  const keep = PROGRESS_LOG_LIMITS.maxEntries;
  // Reports in a tight loop leave at least one message per `maxUpdatesPerBatch` reports: well over the bound.
  const sections = Math.ceil((keep * 1.2 * PROGRESS_BATCHING.maxUpdatesPerBatch) / 1000) * 1000;
  const owner = await connect();
  let requestId: string;
  let lastSeq: number;
  try {
    owner.send({ id: 'chatty', action: 'generate_report', payload: { rows: 1, sections, stepDelayMs: 0 } });
    const result = await owner.next<Message>((m) => m.id === 'chatty' && m.type === 'result', 150_000);
    requestId = result.requestId!;
    lastSeq = result.lastSeq!;
    expect(lastSeq).toBeGreaterThan(keep);
    const live = (owner.received as Message[]).filter((m) => m.id === 'chatty' && m.type === 'progress').map((m) => m.seq);
    expect(live).toEqual(range(1, lastSeq));
  } finally {
    await owner.close();
  }

  expect(await tables.progressLogSeqs(requestId)).toEqual(range(lastSeq - keep + 1, lastSeq));

  const late = await connect();
  try {
    late.send({ id: 'catch-up', action: 'subscribe', payload: { requestId, afterSeq: 0 } });
    await late.next((m: Message) => m.id === 'catch-up' && m.type === 'result', 60_000);
    const replayed = (late.received as Message[]).filter((m) => m.id === 'catch-up' && m.type === 'progress').map((m) => m.seq);
    expect(replayed).toEqual(range(lastSeq - keep + 1, lastSeq));
  } finally {
    await late.close();
  }
});
