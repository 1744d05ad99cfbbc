import * as z from 'zod';
import { defineHandler, FatalError, RetryableError } from '../../functions/core';

export const fetchExport = defineHandler({
  name: 'fetch_export',
  payload: z.object({ url: z.string().url() }),
  estimatedDurationMs: 20_000, // above the sync threshold: queued, run by the processor
  maxRetries: 5, // retryable failures are retried with backoff up to 5 times
  timeoutMs: 60_000,
  async process({ payload, signal, attempt, progress }) {
    progress.report(0, attempt > 1 ? `Attempt ${attempt}` : 'Fetching');
    // Pass the signal on: a cancel or the time budget aborts the fetch itself.
    const response = await fetch(payload.url, { signal });
    if (response.status === 429 || response.status >= 500) {
      throw new RetryableError(`The export service answered ${response.status}`, { retryAfterMs: 5_000 });
    }
    if (!response.ok) throw new FatalError(`The export service refused: ${response.status}`); // never retried
    const rows = ((await response.json()) as unknown[]).length;
    return { rows };
  },
});
