/**
 * What the runtime's HTTP server answers when Node's parser refuses a request
 * before any handler sees it: headers or a request line (the query string is
 * in it) over `maxHeaderSize` (16 KB by default) get 431, other malformed
 * requests 400, as API Gateway answers them, never a bare reset.
 *
 * Node's own fallback writes the same status but destroys the socket at once.
 * The client is usually still sending the rest of its oversized headers, and
 * a socket closed with unread bytes makes the kernel send a TCP reset, which
 * discards the answer on the client's side before it reads it. So the socket
 * is ended (FIN after the answer) and what still arrives is read and dropped
 * for a bounded time.
 */
import type { Duplex } from 'node:stream';

/** How long a refused client may keep sending before its socket is cut. */
export const CLIENT_ERROR_LINGER_MS = 2_000;

interface ParserError extends Error {
  readonly code?: string;
}

const answered = new WeakSet<Duplex>();

/**
 * The HTTP server's `clientError` listener.
 *
 * @example
 * const server = createServer(handler);
 * server.on('clientError', answerClientError);
 */
export function answerClientError(error: ParserError, socket: Duplex): void {
  // Node may report one socket's parser error more than once while its bytes keep arriving.
  if (answered.has(socket)) return;
  answered.add(socket);
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW' || error.code === 'HPE_URI_TOO_LONG';
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = JSON.stringify({ message: tooLarge ? 'Request Header Fields Too Large' : 'Bad Request' });
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  socket.on('data', () => undefined);
  const cut = setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
}
