/**
 * The processor tells its callers apart by the event's shape: a worker event
 * it does not recognise must never be taken for one it does (it would fall
 * through to the stream-batch path, which ignores it).
 */
import { isClaimRequestEvent, isRunRequestEvent } from '../../functions/core/dispatcher';

describe('worker events', () => {
  it('recognises a direct dispatch (streamer.claim) by its type and a non-empty request id', () => {
    expect(isClaimRequestEvent({ type: 'streamer.claim', requestId: '01J' })).toBe(true);
    for (const event of [
      { type: 'streamer.claim' },
      { type: 'streamer.claim', requestId: '' },
      { type: 'streamer.claim', requestId: 42 },
      { type: 'streamer.run', requestId: '01J', runId: 'r' },
      { Records: [] },
      null,
      'streamer.claim',
    ]) {
      expect(isClaimRequestEvent(event)).toBe(false);
    }
  });

  it('never takes a claim for a run, nor a run for a claim', () => {
    expect(isRunRequestEvent({ type: 'streamer.claim', requestId: '01J' })).toBe(false);
    expect(isRunRequestEvent({ type: 'streamer.run', requestId: '01J', runId: 'r' })).toBe(true);
    expect(isClaimRequestEvent({ type: 'streamer.run', requestId: '01J', runId: 'r' })).toBe(false);
  });
});
