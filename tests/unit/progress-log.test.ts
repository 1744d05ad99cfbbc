import { decodeLogEntry, encodeLogEntry, PROGRESS_LOG_LIMITS } from '../../functions/core/progress/progress-log';

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

describe('progress log entries', () => {
  it('stores a small update as it is and reads it back the same', () => {
    const update = { progress: 0.4, message: 'Querying rows…', metadata: { step: 2, of: 6 } };
    expect(decodeLogEntry(encodeLogEntry(update))).toEqual(update);
  });

  it('drops the metadata of an entry over the byte bound, keeping progress and message', () => {
    const update = { progress: 0.5, message: 'big', metadata: { blob: 'x'.repeat(10_000) } };
    const encoded = encodeLogEntry(update);
    expect(bytes(encoded)).toBeLessThanOrEqual(PROGRESS_LOG_LIMITS.maxEntryBytes);
    expect(decodeLogEntry(encoded)).toEqual({ progress: 0.5, message: 'big' });
  });

  it.each([
    ['ASCII', 'a'],
    ['three-byte characters', '€'],
    ['characters JSON escapes', '"\\'],
  ])('cuts a message of %s to fit the bound and marks the cut', (_name, unit) => {
    const encoded = encodeLogEntry({ progress: 0.9, message: unit.repeat(50_000) });
    expect(bytes(encoded)).toBeLessThanOrEqual(PROGRESS_LOG_LIMITS.maxEntryBytes);
    const decoded = decodeLogEntry(encoded)!;
    expect(decoded.progress).toBe(0.9);
    expect(decoded.message!.endsWith('…')).toBe(true);
    expect(decoded.message!.length).toBeGreaterThan(100);
  });

  it('reads nothing from an entry that is not one', () => {
    expect(decodeLogEntry('not json')).toBeUndefined();
    expect(decodeLogEntry('{"message":"no progress"}')).toBeUndefined();
  });
});
