/**
 * The frame-header inspector behind the local gateway's 32 KB frame limit,
 * fed hand-built RFC 6455 frames: whole, one byte at a time, and split at
 * every possible point.
 */
import { WEBSOCKET_LIMITS } from '../../functions/core/aws-limits';
import { FrameSizeInspector } from '../../local/websocket-frame-limit';

const LIMIT = WEBSOCKET_LIMITS.maxFrameBytes;
const TEXT = 0x1;
const BINARY = 0x2;
const CONTINUATION = 0x0;
const PING = 0x9;

/** One client frame: masked, as clients must send them, with the shortest length encoding unless told. */
function frame(opcode: number, payloadBytes: number, options: { fin?: boolean; masked?: boolean; lengthBits?: 7 | 16 | 64 } = {}): Buffer {
  const fin = options.fin ?? true;
  const masked = options.masked ?? true;
  const bits = options.lengthBits ?? (payloadBytes < 126 ? 7 : payloadBytes <= 0xffff ? 16 : 64);
  const first = (fin ? 0x80 : 0) | opcode;
  const maskBit = masked ? 0x80 : 0;
  let header: Buffer;
  if (bits === 7) {
    header = Buffer.from([first, maskBit | payloadBytes]);
  } else if (bits === 16) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = maskBit | 126;
    header.writeUInt16BE(payloadBytes, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(payloadBytes), 2);
  }
  // The payload's content is irrelevant to the inspector; 0x7f bytes would look like headers if it ever misread them.
  return Buffer.concat([header, masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0), Buffer.alloc(payloadBytes, 0x7f)]);
}

function feedBytewise(inspector: FrameSizeInspector, bytes: Buffer): ReturnType<FrameSizeInspector['inspect']>[] {
  const found = [];
  for (let i = 0; i < bytes.length; i += 1) {
    const result = inspector.inspect(bytes.subarray(i, i + 1));
    if (result) found.push(result);
  }
  return found;
}

describe('FrameSizeInspector', () => {
  it('lets frames at or under the limit through, in every length encoding', () => {
    const inspector = new FrameSizeInspector(LIMIT);
    const stream = Buffer.concat([frame(TEXT, 0), frame(TEXT, 125), frame(BINARY, 126), frame(TEXT, LIMIT), frame(TEXT, 10, { lengthBits: 64 })]);
    expect(inspector.inspect(stream)).toBeUndefined();
    expect(inspector.tripped).toBeUndefined();
  });

  it('reports a frame one byte over the limit, with its opcode and length', () => {
    const inspector = new FrameSizeInspector(LIMIT);
    expect(inspector.inspect(frame(TEXT, LIMIT + 1))).toEqual({ opcode: TEXT, payloadBytes: LIMIT + 1, limitBytes: LIMIT });
  });

  it('reports an oversized frame as soon as its header is complete, before any payload arrives', () => {
    const inspector = new FrameSizeInspector(LIMIT);
    const header = frame(BINARY, 40 * 1024).subarray(0, 8); // 2 + 2 length bytes + 4 mask bytes
    expect(inspector.inspect(header)).toMatchObject({ payloadBytes: 40 * 1024 });
  });

  it('measures each fragment of a message on its own, continuations included', () => {
    const inspector = new FrameSizeInspector(LIMIT);
    const fragments = [frame(TEXT, LIMIT, { fin: false }), frame(CONTINUATION, LIMIT, { fin: false }), frame(CONTINUATION, LIMIT)];
    expect(inspector.inspect(Buffer.concat(fragments))).toBeUndefined();
    expect(inspector.inspect(frame(CONTINUATION, LIMIT + 1))).toMatchObject({ opcode: CONTINUATION });
  });

  it('finds the same frames when the bytes arrive one at a time', () => {
    const inspector = new FrameSizeInspector(LIMIT);
    const stream = Buffer.concat([frame(TEXT, 125), frame(PING, 4), frame(TEXT, LIMIT, { fin: false }), frame(CONTINUATION, 300), frame(BINARY, LIMIT + 7)]);
    expect(feedBytewise(inspector, stream)).toEqual([{ opcode: BINARY, payloadBytes: LIMIT + 7, limitBytes: LIMIT }]);
  });

  it('finds an oversized frame wherever the stream is split in two', () => {
    const stream = Buffer.concat([frame(TEXT, 200), frame(CONTINUATION, 1000, { lengthBits: 64 }), frame(TEXT, 70_000)]);
    for (let cut = 0; cut <= stream.length; cut += cut < 1300 ? 1 : 997) {
      const inspector = new FrameSizeInspector(LIMIT);
      const found = [inspector.inspect(stream.subarray(0, cut)), inspector.inspect(stream.subarray(cut))].filter(Boolean);
      expect(found).toEqual([{ opcode: TEXT, payloadBytes: 70_000, limitBytes: LIMIT }]);
    }
  });

  it('reads 64-bit lengths, including ones beyond 2^32', () => {
    const inspector = new FrameSizeInspector(LIMIT);
    const header = Buffer.from([0x82, 0x80 | 127, 0, 0, 0, 1, 0, 0, 0, 5, 1, 2, 3, 4]);
    expect(inspector.inspect(header)).toMatchObject({ payloadBytes: 2 ** 32 + 5 });
  });

  it('reads unmasked frames too (the mask key is only skipped when present)', () => {
    const inspector = new FrameSizeInspector(LIMIT);
    expect(inspector.inspect(Buffer.concat([frame(TEXT, 300, { masked: false }), frame(TEXT, LIMIT + 1, { masked: false })]))).toMatchObject({
      payloadBytes: LIMIT + 1,
    });
  });

  it('never measures control frames, which ws itself bounds to 125 bytes', () => {
    const inspector = new FrameSizeInspector(10);
    expect(inspector.inspect(frame(PING, 100))).toBeUndefined();
  });

  it('reports only the first oversized frame and ignores everything after it', () => {
    const inspector = new FrameSizeInspector(LIMIT);
    expect(inspector.inspect(frame(TEXT, LIMIT + 1).subarray(0, 20))).toBeDefined();
    expect(inspector.inspect(Buffer.concat([Buffer.alloc(5000, 0xff), frame(TEXT, LIMIT * 2)]))).toBeUndefined();
    expect(inspector.tripped).toMatchObject({ payloadBytes: LIMIT + 1 });
  });
});
