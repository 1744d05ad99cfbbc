/**
 * Inputs too large for a message reach a handler as uploads: the client
 * asks for a presigned PUT (the `upload` built-in action), sends the bytes
 * straight to the results bucket, and passes `{ uploadId }` in the payload.
 * The handler declares the field with {@link uploadReference} and reads the
 * bytes with `ctx.uploads`, bounded in size and resolved only under its own
 * caller's prefix: another tenant's (or user's) upload id finds nothing.
 *
 * @example
 * export const countLines = defineHandler({
 *   name: 'count_lines',
 *   payload: z.object({ file: uploadReference }),
 *   estimatedDurationMs: 100,
 *   async process({ payload, uploads }) {
 *     const text = await uploads.text(payload.file, { maxBytes: 5_000_000 });
 *     return { lines: text.split('\n').length };
 *   },
 * });
 */
import * as z from 'zod';
import { RESULTS_BUCKET } from '../cloud-shapes';
import { StreamerError } from '../errors';
import type { Identity } from '../identity';
import { uploadObjectKey } from '../large-results/object-keys';
import type { ObjectStore } from '../stores/object-store';

/** Upload ids are ULIDs. */
const UPLOAD_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The payload field that names an upload: `{ "uploadId": "01J…" }`, as `client.upload()` returns it. */
export const uploadReference = z.object({ uploadId: z.string().regex(UPLOAD_ID, 'must be an upload id returned by the upload action') });

export type UploadReference = z.output<typeof uploadReference>;

export interface UploadReadOptions {
  /** Refuse an upload larger than this (default: the largest upload a client may send). */
  readonly maxBytes?: number;
}

/** Reads the caller's uploads (`ctx.uploads`). */
export interface UploadReader {
  /** The bytes; `NOT_FOUND` when the caller has no such upload (or it expired), `PAYLOAD_TOO_LARGE` over `maxBytes`. */
  bytes(reference: UploadReference, options?: UploadReadOptions): Promise<Uint8Array>;
  /** The bytes as UTF-8 text. */
  text(reference: UploadReference, options?: UploadReadOptions): Promise<string>;
  /** The bytes parsed as JSON and validated by `schema` (`VALIDATION_ERROR` when it does not match). */
  json<Schema extends z.ZodType>(reference: UploadReference, schema: Schema, options?: UploadReadOptions): Promise<z.output<Schema>>;
}

export function uploadReader(objects: ObjectStore, owner: Pick<Identity, 'tenantId' | 'userId'>): UploadReader {
  const bytes = async (reference: UploadReference, options: UploadReadOptions = {}): Promise<Uint8Array> => {
    const parsed = uploadReference.safeParse(reference);
    if (!parsed.success) throw new StreamerError('VALIDATION_ERROR', 'Not an upload reference: expected { uploadId }', { details: { field: 'uploadId' } });
    const maxBytes = options.maxBytes ?? RESULTS_BUCKET.maxUploadBytes;
    const read = await objects.read(uploadObjectKey(owner, parsed.data.uploadId), maxBytes);
    if (read === undefined) {
      throw new StreamerError('NOT_FOUND', `No upload ${parsed.data.uploadId} for this caller (uploads expire after ${RESULTS_BUCKET.uploadExpiryDays} day)`, {
        details: { uploadId: parsed.data.uploadId },
      });
    }
    if (read === 'too-large') {
      throw new StreamerError('PAYLOAD_TOO_LARGE', `Upload ${parsed.data.uploadId} is over this handler's limit of ${maxBytes} bytes`, {
        details: { uploadId: parsed.data.uploadId, limitBytes: maxBytes },
      });
    }
    return read;
  };
  return {
    bytes,
    text: async (reference, options) => new TextDecoder().decode(await bytes(reference, options)),
    json: async (reference, schema, options) => {
      let value: unknown;
      try {
        value = JSON.parse(new TextDecoder().decode(await bytes(reference, options)));
      } catch (error) {
        if (error instanceof StreamerError) throw error;
        throw new StreamerError('VALIDATION_ERROR', 'The upload is not valid JSON');
      }
      const parsed = await schema.safeParseAsync(value);
      if (!parsed.success) {
        throw new StreamerError('VALIDATION_ERROR', `The upload does not match the expected shape: ${parsed.error.issues[0]?.message ?? 'invalid'}`, {
          details: { issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message, code: issue.code })) },
        });
      }
      return parsed.data;
    },
  };
}

/** Where handlers cannot read uploads (the test kit without a bucket): every read says so. */
export const noUploads: UploadReader = {
  bytes: async () => {
    throw new StreamerError('NOT_FOUND', 'No uploads are available here');
  },
  text: async () => {
    throw new StreamerError('NOT_FOUND', 'No uploads are available here');
  },
  json: async () => {
    throw new StreamerError('NOT_FOUND', 'No uploads are available here');
  },
};
