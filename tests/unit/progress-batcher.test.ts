import { ProgressBatcher, type ProgressUpdate } from '../../functions/core/progress/progress-batcher';

describe('ProgressBatcher', () => {
  let sent: ProgressUpdate[];
  let batcher: ProgressBatcher;

  beforeEach(() => {
    jest.useFakeTimers();
    sent = [];
    batcher = new ProgressBatcher(async (update) => {
      sent.push(update);
    });
  });

  afterEach(() => jest.useRealTimers());

  const settle = () => jest.advanceTimersByTimeAsync(0);

  it('sends the first report at once, then collapses reports within 200 ms into one message with the latest state', async () => {
    batcher.report(0.1, 'a');
    await settle();
    expect(sent).toEqual([{ progress: 0.1, message: 'a' }]);
    batcher.report(0.2, 'b');
    batcher.report(0.3, 'c');
    await jest.advanceTimersByTimeAsync(199);
    expect(sent).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([{ progress: 0.1, message: 'a' }, { progress: 0.3, message: 'c' }]);
  });

  it('sends a report at once when nothing went out for a whole window (slow jobs are not delayed)', async () => {
    batcher.report(0.1);
    await jest.advanceTimersByTimeAsync(500);
    batcher.report(0.2);
    await settle();
    expect(sent.map((u) => u.progress)).toEqual([0.1, 0.2]);
  });

  it('flushes early once 5 updates are pending', async () => {
    batcher.report(0.01);
    for (let i = 2; i <= 6; i++) batcher.report(i / 100);
    await settle();
    expect(sent).toEqual([{ progress: 0.01 }, { progress: 0.06 }]);
  });

  it('flushes at once when progress first reaches 90 %, then batches again', async () => {
    batcher.report(0.1);
    batcher.report(0.5);
    batcher.report(0.9, 'almost');
    batcher.report(0.95);
    batcher.report(0.97);
    await settle();
    expect(sent).toEqual([{ progress: 0.1 }, { progress: 0.9, message: 'almost' }]);
    await jest.advanceTimersByTimeAsync(200);
    expect(sent.at(-1)).toEqual({ progress: 0.97, message: 'almost' });
  });

  it('never lets progress decrease and clamps to [0, 1]', async () => {
    batcher.report(0.6);
    batcher.report(0.3, 'late');
    await jest.advanceTimersByTimeAsync(200);
    batcher.report(7);
    await settle();
    expect(sent.map((u) => u.progress)).toEqual([0.6, 0.6, 1]);
  });

  it('ignores NaN and passes metadata through', async () => {
    batcher.report(Number.NaN);
    batcher.report(0.4, 'm', { rows: 10 });
    await jest.advanceTimersByTimeAsync(200);
    expect(sent).toEqual([{ progress: 0.4, message: 'm', metadata: { rows: 10 } }]);
  });

  it('sends what is pending on close and nothing after', async () => {
    batcher.report(0.2);
    await batcher.close();
    batcher.report(0.5);
    await jest.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual([{ progress: 0.2 }]);
  });

  it('costs at most 22 messages for 100 back-to-back reports from 1 % to 100 %', async () => {
    // The first at once, batches of 5, the crossing of 90 %, what is left on close.
    for (let i = 1; i <= 100; i++) batcher.report(i / 100);
    await batcher.close();
    expect(sent.length).toBeLessThanOrEqual(22);
    expect(sent.at(-1)).toEqual({ progress: 1 });
  });

  it('keeps messages in report order when a send is slow', async () => {
    jest.useRealTimers();
    const order: number[] = [];
    const slow = new ProgressBatcher(async (u) => {
      await new Promise((r) => setTimeout(r, u.progress < 0.5 ? 30 : 0));
      order.push(u.progress);
    });
    slow.report(0.1);
    slow.flush();
    slow.report(0.95);
    await slow.close();
    expect(order).toEqual([0.1, 0.95]);
  });
});
