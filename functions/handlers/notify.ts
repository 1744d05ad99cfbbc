import * as z from 'zod';
import { defineHandler, pause } from '../core';

/**
 * Broadcasts a notice, signed with the sender's user id, to every open
 * connection of the caller (`scope: 'user'`: their other tabs and devices)
 * or of the caller's tenant (`'tenant'`): at once (sync), or after `afterMs`
 * (queued, so the wait runs in the processor, not in the router).
 */
export const notify = defineHandler({
  name: 'notify',
  description: "Broadcasts { from, text } on `topic` to the caller's connections or tenant (sync; queued with afterMs).",
  payload: z.object({
    scope: z.enum(['user', 'tenant']).default('user'),
    topic: z.string().min(1).max(128),
    text: z.string().max(4096),
    afterMs: z.number().int().min(0).max(600_000).default(0),
  }),
  shouldQueue: (payload) => payload.afterMs > 0,
  async process({ payload, identity, broadcast, signal }) {
    if (payload.afterMs > 0) await pause(payload.afterMs, signal);
    // `from` is the verified identity, never the payload: a notice cannot pose as another user.
    const delivered = await broadcast(payload.scope, payload.topic, { from: identity.userId, text: payload.text });
    return { delivered };
  },
});
