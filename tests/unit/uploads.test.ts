/**
 * The handler side of uploads, through the test kit: a handler reads its
 * caller's upload bounded in size and validated in shape, and gets a typed
 * error for a missing, oversized or malformed one.
 */
import * as z from 'zod';
import { defineHandler, runHandler, uploadReference } from '../../functions/core';
import { digestUpload } from '../../functions/handlers/digest-upload';

const ID = '01JABCDEFGHJKMNPQRSTVWXYZ0';

const sumNumbers = defineHandler({
  name: 'sum_numbers',
  payload: z.object({ file: uploadReference }),
  estimatedDurationMs: 10,
  async process({ payload, uploads }) {
    const numbers = await uploads.json(payload.file, z.array(z.number()), { maxBytes: 1000 });
    return { sum: numbers.reduce((a, b) => a + b, 0) };
  },
});

describe('uploads in handlers', () => {
  it('gives a handler the bytes of its caller\'s upload', async () => {
    const run = await runHandler(digestUpload, { file: { uploadId: ID } }, { uploads: { [ID]: 'hello' } });
    expect(run.outcome).toEqual({ kind: 'result', data: { bytes: 5, sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' } });
  });

  it('parses and validates a JSON upload with the handler\'s schema', async () => {
    await expect(runHandler(sumNumbers, { file: { uploadId: ID } }, { uploads: { [ID]: '[1,2,3]' } })).resolves.toMatchObject({ outcome: { kind: 'result', data: { sum: 6 } } });
    const wrong = await runHandler(sumNumbers, { file: { uploadId: ID } }, { uploads: { [ID]: '["a"]' } });
    expect(wrong.outcome).toMatchObject({ kind: 'error', error: { code: 'VALIDATION_ERROR' } });
  });

  it('refuses an upload over the handler\'s limit with PAYLOAD_TOO_LARGE', async () => {
    const run = await runHandler(sumNumbers, { file: { uploadId: ID } }, { uploads: { [ID]: `[${'1,'.repeat(600)}1]` } });
    expect(run.outcome).toMatchObject({ kind: 'error', error: { code: 'PAYLOAD_TOO_LARGE', details: { limitBytes: 1000 } } });
  });

  it('answers NOT_FOUND for an upload the caller does not have', async () => {
    const run = await runHandler(digestUpload, { file: { uploadId: ID } }, { uploads: {} });
    expect(run.outcome).toMatchObject({ kind: 'error', error: { code: 'NOT_FOUND' } });
  });

  it('refuses a payload whose upload reference is not an upload id', async () => {
    const run = await runHandler(digestUpload, { file: { uploadId: '../../results/x' } });
    expect(run.outcome).toMatchObject({ kind: 'error', error: { code: 'VALIDATION_ERROR' } });
  });
});
