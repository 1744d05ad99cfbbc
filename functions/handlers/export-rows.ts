import * as z from 'zod';
import { defineHandler } from '../core';

/**
 * Async: an export of `rows` generated rows of `width` characters each. A
 * large export (50,000 rows of 100 characters is about 5 MB) is far over the
 * 128 KB message limit: it reaches the client by reference, fetched and
 * checked by the SDK.
 */
export const exportRows = defineHandler({
  name: 'export_rows',
  description: 'Returns `rows` rows of `width` characters (async): large results travel by reference.',
  payload: z.object({ rows: z.number().int().positive().max(200_000), width: z.number().int().min(1).max(1000).default(100) }),
  shouldQueue: () => true,
  async process({ payload, progress }) {
    const rows: { n: number; text: string }[] = [];
    for (let n = 0; n < payload.rows; n++) {
      rows.push({ n, text: String(n % 10).repeat(payload.width) });
      if (n % 10_000 === 9_999) progress.report(n / payload.rows, `${n + 1} rows`);
    }
    return { rows };
  },
});
