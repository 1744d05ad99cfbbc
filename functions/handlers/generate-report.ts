import * as z from 'zod';
import { defineHandler, pause } from '../core';

const STEPS = ['Loading data', 'Querying rows', 'Aggregating', 'Computing statistics', 'Rendering report', 'Finalizing'] as const;

/** Async: a report in six steps with progress after each. */
export const generateReport = defineHandler({
  name: 'generate_report',
  description: 'Builds a report over `rows` rows in six steps, reporting progress (async).',
  payload: z.object({
    rows: z.number().int().positive().max(10_000_000),
    stepDelayMs: z.number().int().min(0).max(60_000).optional(),
  }),
  shouldQueue: () => true,
  async process({ payload, progress, signal }) {
    const stepDelayMs = payload.stepDelayMs ?? 500;
    let checksum = 0;
    for (let step = 0; step < STEPS.length; step++) {
      progress.report(step / STEPS.length, `${STEPS[step]}…`, { step: step + 1, of: STEPS.length });
      await pause(stepDelayMs, signal);
      // Deterministic stand-in for real work, so results can be checked.
      checksum = (checksum * 31 + payload.rows * (step + 1)) % 1_000_003;
    }
    progress.report(1, 'Done');
    return {
      summary: `Report over ${payload.rows} rows`,
      rows: payload.rows,
      sections: STEPS.length,
      checksum,
      generatedAt: new Date().toISOString(),
    };
  },
});
