import * as z from 'zod';
import { defineHandler } from '../../functions/core';

export const publishPrices = defineHandler({
  name: 'publish_prices',
  payload: z.object({ list: z.string().min(1).max(64), prices: z.record(z.string(), z.number().nonnegative()) }),
  estimatedDurationMs: 30_000, // queued: the broadcast leaves from the processor once the work is done
  permissions: ['prices:publish'], // a notice to the whole tenant is worth a permission
  async process({ payload, identity, broadcast }) {
    // … store the new prices …
    const reached = await broadcast('tenant', 'prices.updated', { list: payload.list, by: identity.userId });
    return { items: Object.keys(payload.prices).length, reached };
  },
});
