import * as z from 'zod';
import { defineHandler, type JsonValue } from '../core';

/** Sync: answers at once with its payload as `data`. */
export const echo = defineHandler({
  name: 'echo',
  description: 'Returns its payload (sync).',
  payload: z.record(z.string(), z.unknown()),
  estimatedDurationMs: 1,
  async process({ payload }) {
    return payload as JsonValue;
  },
});
