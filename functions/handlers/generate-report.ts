import * as z from 'zod';
import { defineHandler, pause } from '../core';

const STEPS = ['Loading data', 'Querying rows', 'Aggregating', 'Computing statistics', 'Rendering report', 'Finalizing'] as const;

/** Async: a report in six named steps (or `sections` numbered ones) with progress after each. */
export const generateReport = defineHandler({
  name: 'generate_report',
  description: 'Builds a report over `rows` rows in six steps (or `sections`), reporting progress after each (async).',
  payload: z.object({
    rows: z.number().int().positive().max(10_000_000),
    stepDelayMs: z.number().int().min(0).max(60_000).optional(),
    /** Numbered sections instead of the six named steps: `sections + 1` progress reports (batched: see docs/handlers.md). */
    sections: z.number().int().min(1).max(10_000).optional(),
  }),
  shouldQueue: () => true,
  async process({ payload, progress, signal }) {
    const stepDelayMs = payload.stepDelayMs ?? 500;
    const steps = payload.sections ?? STEPS.length;
    const title = (step: number): string => (payload.sections === undefined ? STEPS[step]! : `Section ${step + 1} of ${steps}`);
    let checksum = 0;
    for (let step = 0; step < steps; step++) {
      progress.report(step / steps, `${title(step)}…`, { step: step + 1, of: steps });
      await pause(stepDelayMs, signal);
      // Deterministic stand-in for real work, so results can be checked.
      checksum = (checksum * 31 + payload.rows * (step + 1)) % 1_000_003;
    }
    progress.report(1, 'Done');
    return {
      summary: `Report over ${payload.rows} rows`,
      rows: payload.rows,
      sections: steps,
      checksum,
      generatedAt: new Date().toISOString(),
    };
  },
});
