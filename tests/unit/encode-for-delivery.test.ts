/**
 * The one gate before any server message leaves: what fits goes as it is,
 * a large result goes by reference, progress is cut by the documented rule,
 * and nothing is ever dropped in silence.
 */
import { createHash } from 'node:crypto';
import { deliveryText, encodeForDelivery, messageBytes, TRUNCATED_PROGRESS_TEXT_CHARS } from '../../functions/core/notify/encode-for-delivery';
import type { ServerMessage } from '../../functions/core/protocol/messages';
import { MemoryObjectStore } from '../support/memory-object-store';

const LIMIT = 128 * 1024;

describe('encodeForDelivery', () => {
  it('sends a message that fits exactly as it is', async () => {
    const message: ServerMessage = { id: 'c-1', type: 'result', success: true, data: { small: true } };
    await expect(encodeForDelivery(message, { objects: new MemoryObjectStore() })).resolves.toBe(message);
  });

  it('stores a result over the limit and sends its URL, length and SHA-256 instead of the data', async () => {
    const objects = new MemoryObjectStore();
    const data = { text: 'z'.repeat(200_000) };
    const sent = await encodeForDelivery({ id: 'c-1', type: 'result', requestId: 'r-1', success: true, data }, { objects });
    const body = Buffer.from(JSON.stringify(data));
    expect(sent).toEqual({
      id: 'c-1',
      type: 'result',
      requestId: 'r-1',
      success: true,
      dataUrl: expect.stringContaining('results/'),
      dataBytes: body.length,
      dataSha256: createHash('sha256').update(body).digest('hex'),
      dataExpiresAt: expect.any(Number),
    });
    expect([...objects.objects.values()][0]?.body).toEqual(body);
  });

  it('drops the metadata of progress over the limit and marks it truncated', async () => {
    const sent = await encodeForDelivery(
      { id: 'c-1', type: 'progress', requestId: 'r-1', progress: 0.5, message: 'Half way', metadata: { rows: 'r'.repeat(LIMIT) } },
      {},
    );
    expect(sent).toEqual({ id: 'c-1', type: 'progress', requestId: 'r-1', progress: 0.5, message: 'Half way', truncated: true });
  });

  it('cuts a progress text that alone is over the limit', async () => {
    const sent = await encodeForDelivery({ id: 'c-1', type: 'progress', requestId: 'r-1', progress: 0.5, message: 'm'.repeat(LIMIT) }, {});
    expect(sent).toMatchObject({ truncated: true, message: 'm'.repeat(TRUNCATED_PROGRESS_TEXT_CHARS) });
  });

  it('drops the details of an error over the limit', async () => {
    const sent = await encodeForDelivery(
      { id: 'c-1', type: 'error', error: { code: 'VALIDATION_ERROR', message: 'bad', retryable: false, details: { blob: 'd'.repeat(LIMIT) } } },
      {},
    );
    expect(sent).toEqual({ id: 'c-1', type: 'error', error: { code: 'VALIDATION_ERROR', message: 'bad', retryable: false, details: { truncated: true } } });
  });

  it('answers PAYLOAD_TOO_LARGE to the same id when a message cannot be shrunk (a result with no bucket to store it in)', async () => {
    const sent = await encodeForDelivery({ id: 'c-9', type: 'result', success: true, data: 'x'.repeat(LIMIT) }, {});
    expect(sent).toMatchObject({ id: 'c-9', type: 'error', error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(messageBytes(sent)).toBeLessThan(LIMIT);
  });
});

describe('deliveryText', () => {
  it('is the JSON text of a message that fits', async () => {
    const message: ServerMessage = { id: 'c-1', type: 'pong' };
    await expect(deliveryText(message, {})).resolves.toBe(JSON.stringify(message));
  });

  it('is the text of the by-reference message for a result over the limit', async () => {
    const objects = new MemoryObjectStore();
    const text = await deliveryText({ id: 'c-1', type: 'result', requestId: 'r-1', success: true, data: { text: 'z'.repeat(200_000) } }, { objects });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(LIMIT);
    expect(JSON.parse(text)).toMatchObject({ id: 'c-1', type: 'result', dataUrl: expect.stringContaining('results/') });
    expect(JSON.parse(text)).not.toHaveProperty('data');
  });
});
