import { REQUEST_STREAM_MAPPING } from '../../functions/core/cloud-shapes';
import { matchesAnyPattern, matchesPattern } from '../../local/filter-pattern';

const record = (eventName: string, status?: string) => ({
  eventID: '1',
  eventName,
  eventSource: 'aws:dynamodb',
  dynamodb: {
    Keys: { request_id: { S: 'r1' } },
    ...(status !== undefined && { NewImage: { request_id: { S: 'r1' }, status: { S: status }, attempts: { N: '2' } } }),
  },
});

describe('the requests stream filter (REQUEST_STREAM_MAPPING)', () => {
  const patterns = REQUEST_STREAM_MAPPING.filterPatterns;

  it('lets new queued requests through', () => {
    expect(matchesAnyPattern(record('INSERT', 'queued'), patterns)).toBe(true);
  });

  it('lets requests put back in the queue through', () => {
    expect(matchesAnyPattern(record('MODIFY', 'queued'), patterns)).toBe(true);
  });

  it('keeps progress and terminal writes away from the processor', () => {
    expect(matchesAnyPattern(record('MODIFY', 'processing'), patterns)).toBe(false);
    expect(matchesAnyPattern(record('MODIFY', 'completed'), patterns)).toBe(false);
  });

  it('drops deletions, which have no new image', () => {
    expect(matchesAnyPattern(record('REMOVE'), patterns)).toBe(false);
  });
});

describe('filter pattern matching', () => {
  it('requires every field of the pattern, at every depth', () => {
    const pattern = { eventName: ['INSERT'], dynamodb: { NewImage: { status: { S: ['queued'] } } } };
    expect(matchesPattern(record('INSERT', 'queued'), pattern)).toBe(true);
    expect(matchesPattern(record('MODIFY', 'queued'), pattern)).toBe(false);
    expect(matchesPattern({ eventName: 'INSERT' }, pattern)).toBe(false);
  });

  it('compares values with their JSON type', () => {
    expect(matchesPattern({ n: 5 }, { n: [5] })).toBe(true);
    expect(matchesPattern({ n: '5' }, { n: [5] })).toBe(false);
    expect(matchesPattern({ flag: true }, { flag: [true] })).toBe(true);
  });

  it('matches an array value when any element is allowed', () => {
    expect(matchesPattern({ tags: ['a', 'b'] }, { tags: ['b', 'z'] })).toBe(true);
    expect(matchesPattern({ tags: ['a'] }, { tags: ['z'] })).toBe(false);
  });

  it('does not match a leaf list against an object, nor an object pattern against a scalar', () => {
    expect(matchesPattern({ status: { S: 'queued' } }, { status: ['queued'] })).toBe(false);
    expect(matchesPattern({ status: 'queued' }, { status: { S: ['queued'] } })).toBe(false);
  });

  it('lets everything through when there are no patterns, and anything matching one of several', () => {
    expect(matchesAnyPattern({ a: 1 }, [])).toBe(true);
    expect(matchesAnyPattern({ a: 2 }, [{ a: [1] }, { a: [2] }])).toBe(true);
    expect(matchesAnyPattern({ a: 3 }, [{ a: [1] }, { a: [2] }])).toBe(false);
  });

  it('understands the content filters AWS documents', () => {
    const filters = (conditions: unknown[]) => ({ v: conditions }) as never;
    expect(matchesPattern({ v: 'req-123' }, filters([{ prefix: 'req-' }]))).toBe(true);
    expect(matchesPattern({ v: 'file.json' }, filters([{ suffix: '.json' }]))).toBe(true);
    expect(matchesPattern({ v: 'QUEUED' }, filters([{ 'equals-ignore-case': 'queued' }]))).toBe(true);
    expect(matchesPattern({ v: 'failed' }, filters([{ 'anything-but': ['queued', 'processing'] }]))).toBe(true);
    expect(matchesPattern({ v: 'queued' }, filters([{ 'anything-but': ['queued'] }]))).toBe(false);
    expect(matchesPattern({ v: 3 }, filters([{ numeric: ['>', 0, '<=', 5] }]))).toBe(true);
    expect(matchesPattern({ v: 6 }, filters([{ numeric: ['>', 0, '<=', 5] }]))).toBe(false);
    expect(matchesPattern({ v: 1 }, filters([{ exists: true }]))).toBe(true);
    expect(matchesPattern({}, filters([{ exists: false }]))).toBe(true);
    expect(matchesPattern({ v: 1 }, filters([{ exists: false }]))).toBe(false);
  });
});
