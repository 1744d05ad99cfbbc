import * as z from 'zod';
import { defineHandler, pause } from '../core';

const STAGES = ['validate', 'transform', 'enrich', 'aggregate', 'store'] as const;

/** Async: the seeds' five-stage pipeline over `items` items. */
export const processData = defineHandler({
  name: 'process_data',
  description: 'Runs items through validate → transform → enrich → aggregate → store (async).',
  payload: z.object({
    items: z.number().int().min(1).max(1_000_000).default(100),
    stepDelayMs: z.number().int().min(0).max(60_000).optional(),
  }),
  shouldQueue: () => true,
  async process({ payload, progress, signal }) {
    const stepDelayMs = payload.stepDelayMs ?? 400;
    const stageResults: Record<string, number> = {};
    for (let index = 0; index < STAGES.length; index++) {
      const stage = STAGES[index];
      progress.report(index / STAGES.length, `Stage ${index + 1}/${STAGES.length}: ${stage}`, { stage });
      await pause(stepDelayMs, signal);
      stageResults[stage] = payload.items;
    }
    return { processed: payload.items, stages: stageResults };
  },
});
