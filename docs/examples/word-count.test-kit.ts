import { runHandler, StreamerError } from '../../functions/core';
import { wordCount } from './word-count';

test('word_count counts words and reports progress per text', async () => {
  const run = await runHandler(wordCount, { texts: ['a b', 'c'] });
  expect(run.outcome).toEqual({ kind: 'result', data: { words: 3 } });
  expect(run.progress.map((p) => p.progress)).toEqual([0.5, 1]);
});

test('word_count refuses an empty list before any work', async () => {
  const run = await runHandler(wordCount, { texts: [] });
  expect(run.outcome.kind === 'error' && run.outcome.error.code).toBe('VALIDATION_ERROR');
});

test('word_count stops when cancelled', async () => {
  const controller = new AbortController();
  controller.abort(new StreamerError('CANCELLED', 'Cancelled by the test')); // as the processor aborts on a cancel
  const run = await runHandler(wordCount, { texts: ['a'] }, { signal: controller.signal });
  expect(run.outcome.kind === 'error' && run.outcome.error.code).toBe('CANCELLED');
});
