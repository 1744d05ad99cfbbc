import * as z from 'zod';
import { defineHandler, pause } from '../../functions/core';

export const wordCount = defineHandler({
  name: 'word_count',
  payload: z.object({ texts: z.array(z.string()).min(1).max(1000) }), // bad payloads get VALIDATION_ERROR
  shouldQueue: ({ texts }) => texts.length > 10, // a few texts answer at once, many are queued
  async process({ payload, progress, signal }) {
    let words = 0;
    for (const [index, text] of payload.texts.entries()) {
      words += text.split(/\s+/).filter(Boolean).length;
      progress.report((index + 1) / payload.texts.length, `Counted ${index + 1} of ${payload.texts.length}`);
      await pause(0, signal); // cancellation and the time budget stop the loop here
    }
    return { words };
  },
});
