import { createHash } from 'node:crypto';
import * as z from 'zod';
import { defineHandler, uploadReference } from '../core';

/** Reads an uploaded input (`client.upload()`) and answers with its size and SHA-256: sync, or queued with `queue: true`. */
export const digestUpload = defineHandler({
  name: 'digest_upload',
  description: 'Reads an upload (up to 16 MB) and returns its length and SHA-256 (sync; async with queue: true).',
  payload: z.object({ file: uploadReference, queue: z.boolean().default(false) }),
  shouldQueue: (payload) => payload.queue,
  async process({ payload, uploads }) {
    const bytes = await uploads.bytes(payload.file, { maxBytes: 16 * 1024 * 1024 });
    return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  },
});
