/**
 * API Gateway's per-frame limit, which `ws` cannot express: its `maxPayload`
 * bounds a whole message (all fragments together), while API Gateway also
 * closes the connection with 1009 when any single frame is over 32 KB, even
 * inside a message that would fit.
 *
 * {@link FrameSizeInspector} reads the raw bytes a client sends, before `ws`
 * parses them, and follows only the RFC 6455 §5.2 frame headers: FIN and
 * opcode, the MASK bit, the 7-, 16- or 64-bit payload length and the 4-byte
 * masking key. Payload bytes are counted and skipped, never copied. Bytes
 * may arrive split anywhere (inside a header, across frames), so all state
 * lives between calls.
 *
 * It does not validate frames: `ws` still does that (and fails a bad frame
 * with its own close code). Control frames (opcodes 8–15) are at most 125
 * bytes by the RFC and `ws` enforces that; only data and continuation frames
 * are measured here.
 */

/** The frame that broke the limit. */
export interface OversizedFrame {
  /** 0 continuation, 1 text, 2 binary. */
  readonly opcode: number;
  /** Declared payload length of the frame (exact up to 2^53). */
  readonly payloadBytes: number;
  readonly limitBytes: number;
}

const FIRST_CONTROL_OPCODE = 0x08;
const LENGTH_16_BIT = 126;
const LENGTH_64_BIT = 127;
const MASK_KEY_BYTES = 4;
/** 2 fixed bytes + 8 extended length bytes + 4 mask bytes. */
const MAX_HEADER_BYTES = 14;

/**
 * Watches one connection's incoming bytes for a data frame over `maxFrameBytes`.
 *
 * @example
 * const inspector = new FrameSizeInspector(WEBSOCKET_LIMITS.maxFrameBytes);
 * socket.prependListener('data', (chunk: Buffer) => {
 *   const oversized = inspector.inspect(chunk);
 *   if (oversized) ws.close(1009, 'Message too big');
 * });
 */
export class FrameSizeInspector {
  private readonly header = new Uint8Array(MAX_HEADER_BYTES);
  private headerLength = 0;
  /** Payload bytes of the current frame still to skip. */
  private payloadRemaining = 0;
  private oversized: OversizedFrame | undefined;

  constructor(private readonly maxFrameBytes: number) {}

  /** The oversized frame seen so far, if any; once set, later bytes are ignored. */
  get tripped(): OversizedFrame | undefined {
    return this.oversized;
  }

  /**
   * Reads the next bytes of the stream. Returns the oversized frame the first
   * time one is found (as soon as its header is complete, before its payload
   * arrives), and `undefined` otherwise, also on every call after that.
   */
  inspect(chunk: Uint8Array): OversizedFrame | undefined {
    if (this.oversized) return undefined;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.payloadRemaining > 0) {
        const skipped = Math.min(this.payloadRemaining, chunk.length - offset);
        this.payloadRemaining -= skipped;
        offset += skipped;
        continue;
      }
      this.header[this.headerLength++] = chunk[offset++]!;
      if (this.headerLength < this.headerBytesNeeded()) continue;
      const found = this.endOfHeader();
      if (found) return found;
    }
    return undefined;
  }

  /** Header size, known once the second byte (MASK bit and 7-bit length) is in. */
  private headerBytesNeeded(): number {
    if (this.headerLength < 2) return 2;
    const length7 = this.header[1]! & 0x7f;
    const extended = length7 === LENGTH_16_BIT ? 2 : length7 === LENGTH_64_BIT ? 8 : 0;
    const mask = (this.header[1]! & 0x80) !== 0 ? MASK_KEY_BYTES : 0;
    return 2 + extended + mask;
  }

  private endOfHeader(): OversizedFrame | undefined {
    const opcode = this.header[0]! & 0x0f;
    const payloadBytes = this.payloadLength();
    this.headerLength = 0;
    this.payloadRemaining = payloadBytes;
    if (opcode < FIRST_CONTROL_OPCODE && payloadBytes > this.maxFrameBytes) {
      this.oversized = { opcode, payloadBytes, limitBytes: this.maxFrameBytes };
      return this.oversized;
    }
    return undefined;
  }

  private payloadLength(): number {
    const length7 = this.header[1]! & 0x7f;
    const view = new DataView(this.header.buffer, this.header.byteOffset, this.header.byteLength);
    if (length7 === LENGTH_16_BIT) return view.getUint16(2);
    // A 64-bit length over 2^53 loses precision, but any such frame is far over every limit anyway.
    if (length7 === LENGTH_64_BIT) return view.getUint32(2) * 2 ** 32 + view.getUint32(6);
    return length7;
  }
}
