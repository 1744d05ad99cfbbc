/**
 * A long job must never delay the start of other queued jobs. With one job
 * that will run for minutes, short jobs submitted after it start, report
 * progress and finish while it is still running. (The latency figure, ack →
 * first progress, is measured in bench/, not asserted here.)
 */
import { openSocket } from '../support/socket-client';
import { startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';

jest.setTimeout(60_000);

let runtime: LocalRuntimeHandle;
beforeAll(async () => {
  runtime = await startLocalRuntime({ env: { STREAMER_LOCAL_LOG_LEVEL: 'warn' }, stack: { logLevel: 'ERROR' } });
});
afterAll(() => runtime.stop());

type Message = { id?: string; type?: string; requestId?: string; progress?: number };

it("runs short jobs to completion while a six-minute job is still running", async () => {
  const socket = await openSocket(`${runtime.wsUrl}?token=${runtime.mintToken({ sub: 'hol', tenant: 'acme' })}`);
  // Six steps of a minute each: six minutes of work.
  socket.send({ id: 'long', action: 'generate_report', payload: { rows: 1, stepDelayMs: 60_000 } });
  await socket.next((m: Message) => m.id === 'long' && m.type === 'progress');

  for (let i = 0; i < 5; i++) socket.send({ id: `short-${i}`, action: 'process_data', payload: { items: 3, stepDelayMs: 20 } });
  for (let i = 0; i < 5; i++) {
    await expect(socket.next((m: Message) => m.id === `short-${i}` && (m.type === 'result' || m.type === 'error'), 20_000)).resolves.toMatchObject({ type: 'result' });
  }

  const longMessages = (socket.received as Message[]).filter((m) => m.id === 'long');
  expect(longMessages.some((m) => m.type === 'result' || m.type === 'error')).toBe(false);
  const ack = longMessages.find((m) => m.type === 'ack')!;
  socket.send({ id: 'status', action: 'status', payload: { requestId: ack.requestId } });
  await expect(socket.next((m: Message) => m.id === 'status')).resolves.toMatchObject({ request: { status: 'processing' } });

  socket.send({ id: 'stop', action: 'cancel', payload: { requestId: ack.requestId } });
  await socket.next((m: Message) => m.id === 'long' && m.type === 'error');
  await socket.close();
});
