import { ERROR_CODES, FatalError, RetryableError, StreamerError, toStreamerError } from '../../functions/core/errors';

describe('StreamerError', () => {
  it('takes retryability from the protocol table unless overridden', () => {
    expect(new StreamerError('TIMEOUT', 't').retryable).toBe(true);
    expect(new StreamerError('VALIDATION_ERROR', 'v').retryable).toBe(false);
    expect(new StreamerError('INTERNAL_ERROR', 'i', { retryable: false }).retryable).toBe(false);
  });

  it('serialises to the wire shape with only the fields that are set', () => {
    expect(new StreamerError('RATE_LIMITED', 'slow down', { retryAfterMs: 250 }).toWire()).toEqual({
      code: 'RATE_LIMITED',
      message: 'slow down',
      retryable: true,
      retryAfterMs: 250,
    });
  });

  it('maps unknown throws to a retryable INTERNAL_ERROR that hides the original message', () => {
    const mapped = toStreamerError(new Error('db password is hunter2'));
    expect(mapped.code).toBe('INTERNAL_ERROR');
    expect(mapped.retryable).toBe(true);
    expect(mapped.message).not.toContain('hunter2');
  });

  it('distinguishes retryable from fatal handler failures', () => {
    expect(new RetryableError('flaky', { retryAfterMs: 10 }).retryable).toBe(true);
    expect(new FatalError('broken').retryable).toBe(false);
  });

  it('covers every code of the protocol table', () => {
    expect(Object.keys(ERROR_CODES).sort()).toEqual(
      ['CANCELLED', 'FORBIDDEN', 'INTERNAL_ERROR', 'INVALID_REQUEST', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'TIMEOUT', 'UNAUTHORIZED', 'UNKNOWN_ACTION', 'VALIDATION_ERROR'],
    );
  });
});
