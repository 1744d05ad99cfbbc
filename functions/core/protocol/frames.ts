/**
 * Splitting a message into WebSocket frames of at most API Gateway's frame
 * size. API Gateway closes a connection with 1009 on any frame over 32 KB,
 * so a message over that is sent as one first frame and continuation frames
 * (RFC 6455 §5.4). The local gateway sends `@connections` data this way, as
 * API Gateway does, and the Node client sends its requests this way.
 */

/**
 * `message` cut into consecutive slices of at most `maxFrameBytes` bytes
 * (views, not copies); one slice, possibly empty, when it already fits.
 *
 * @example
 * const slices = frameSlices(Buffer.from(json), WEBSOCKET_LIMITS.maxFrameBytes);
 * slices.forEach((slice, i) => socket.send(slice, { binary: false, fin: i === slices.length - 1 }));
 */
export function frameSlices<T extends Uint8Array>(message: T, maxFrameBytes: number): T[] {
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1) throw new RangeError(`maxFrameBytes must be a positive integer, got ${maxFrameBytes}`);
  if (message.length <= maxFrameBytes) return [message];
  const slices: T[] = [];
  for (let start = 0; start < message.length; start += maxFrameBytes) {
    slices.push(message.subarray(start, start + maxFrameBytes) as T);
  }
  return slices;
}
