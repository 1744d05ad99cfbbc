/**
 * Abuse over a real socket: at least 1,000 malformed frames of every kind.
 * The runtime must answer each one with an error, keep the connection open,
 * and stay alive for the next client.
 */
import { openSocket, type TestSocket } from '../support/socket-client';
import { startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';
import { waitFor } from '../support/wait-for';

jest.setTimeout(120_000);

let runtime: LocalRuntimeHandle;
beforeAll(async () => {
  runtime = await startLocalRuntime({
    env: { STREAMER_LOCAL_LOG_LEVEL: 'warn' },
    // The fuzz run measures validation, not the rate limiter.
    stack: { logLevel: 'ERROR', rateLimitConnection: '100000/100000', rateLimitUser: '100000/100000' },
  });
});
afterAll(() => runtime.stop());

/** A small deterministic PRNG so a failing case can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

type Frame = { text: string } | { binary: Buffer };

function malformedFrames(count: number): Frame[] {
  const random = prng(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
  const generators: Array<(i: number) => Frame> = [
    () => ({ text: pick(['{', '}', '{"id":', 'nul', '{"id":"a",}', "{'id':'a'}", '\u0000', ' ', '[', '"', '{"id":"a""action":"x"}']) }),
    () => ({ text: JSON.stringify(pick([null, 1, true, 'str', [], [1, 2], 1.5e308])) }),
    (i) => ({ text: JSON.stringify({ id: pick([null, 0, 1, true, [], {}, '', 'x'.repeat(129)]), action: 'echo', n: i }) }),
    (i) => ({ text: JSON.stringify({ id: `w${i}`, action: pick([null, 0, true, [], {}, '', 'x'.repeat(200)]) }) }),
    (i) => ({ text: JSON.stringify({ id: `p${i}`, action: 'echo', payload: pick([[], 'x', 3, true, [1]]) }) }),
    (i) => ({ text: JSON.stringify({ id: `u${i}`, action: pick(['nope', 'DROP TABLE', '../../etc/passwd', '__proto__', 'constructor', 'toString']) }) }),
    (i) => ({ text: JSON.stringify({ id: `v${i}`, action: 'generate_report', payload: { rows: pick([-1, 0, 1.5, 'many', null, 1e12]) } }) }),
    (i) => ({ text: JSON.stringify({ id: `s${i}`, action: pick(['status', 'subscribe', 'cancel', 'unsubscribe']), payload: pick([{}, { requestId: 5 }, { requestId: '' }, { requestId: 'x'.repeat(500) }, { requestId: 'nope' }]) }) }),
    (i) => ({ text: `{"id":"d${i}","action":"echo","payload":{"a":${deep(1000 + Math.floor(random() * 5000))}}}` }),
    (i) => ({ text: `{"id":"h${i}","action":"echo","payload":{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}}` }),
    (i) => ({ text: JSON.stringify({ id: `b${i}`, action: 'echo', payload: { s: 'x'.repeat(60_000 + Math.floor(random() * 60_000)) }, pad: 'y'.repeat(10) }).slice(0, 127_000) }),
    // Invalid UTF-8 arrives as a binary frame (API Gateway passes those base64-encoded).
    () => ({ binary: Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xff, 0xfe]) }),
    (i) => ({ binary: Buffer.concat([Buffer.from(`{"id":"bin${i}","action":"echo","payload":{"x":"`), Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from('"}}')]) }),
  ];
  return Array.from({ length: count }, (_unused, i) => generators[i % generators.length](i));
}

describe('malformed frames over a real socket', () => {
  it('answers every one of 1,300 malformed frames, keeps the connection open and the server alive', async () => {
    const frames = malformedFrames(1300);
    const socket: TestSocket = await openSocket(`${runtime.wsUrl}?token=${runtime.mintToken({ sub: 'fuzz', tenant: 'fuzz' })}`);
    let closedEarly = false;
    void socket.closed().then(() => (closedEarly = true));
    // Bounded pacing: a window of 50 frames in flight at a time.
    for (let start = 0; start < frames.length; start += 50) {
      for (const frame of frames.slice(start, start + 50)) {
        // Text goes in frames of at most 32 KB, as API Gateway requires: the fuzz is about content, not framing.
        if ('text' in frame) socket.send(frame.text);
        else socket.socket.send(frame.binary, { binary: true });
      }
      const expected = Math.min(start + 50, frames.length);
      await waitFor(() => socket.received.length >= expected, 30_000);
    }
    expect(closedEarly).toBe(false);
    expect(socket.received).toHaveLength(frames.length);
    const replies = socket.received as Array<{ type: string; error?: { code: string } }>;
    // Everything here is malformed except echo of a __proto__-laden payload, which must come back without it.
    const nonErrors = replies.filter((r) => r.type !== 'error');
    expect(nonErrors.every((r) => r.type === 'result')).toBe(true);
    expect(JSON.stringify(nonErrors)).not.toContain('"admin"');
    const codes = new Set(replies.filter((r) => r.type === 'error').map((r) => r.error!.code));
    expect([...codes].sort()).toEqual(expect.arrayContaining(['INVALID_REQUEST', 'NOT_FOUND', 'UNKNOWN_ACTION', 'VALIDATION_ERROR']));
    expect(codes.has('INTERNAL_ERROR')).toBe(false);

    socket.send({ id: 'still-here', action: 'ping' });
    await expect(socket.next((m: { id?: string }) => m.id === 'still-here')).resolves.toEqual({ id: 'still-here', type: 'pong' });
    await socket.close();

    const fresh = await openSocket(`${runtime.wsUrl}?token=${runtime.mintToken({ sub: 'after', tenant: 'fuzz' })}`);
    fresh.send({ id: 'e', action: 'echo', payload: { ok: true } });
    await expect(fresh.next()).resolves.toEqual({ id: 'e', type: 'result', success: true, data: { ok: true } });
    await fresh.close();
  });

  it('closes a message over 128 KiB with 1009, as API Gateway does, and keeps serving others', async () => {
    const socket = await openSocket(`${runtime.wsUrl}?token=${runtime.mintToken({ sub: 'big', tenant: 'fuzz' })}`);
    socket.send(JSON.stringify({ id: 'big', action: 'echo', payload: { s: 'x'.repeat(140 * 1024) } }));
    await expect(socket.closed()).resolves.toMatchObject({ code: 1009 });
    const other = await openSocket(`${runtime.wsUrl}?token=${runtime.mintToken({ sub: 'big', tenant: 'fuzz' })}`);
    other.send({ id: 'p', action: 'ping' });
    await expect(other.next()).resolves.toEqual({ id: 'p', type: 'pong' });
    await other.close();
  });
});
