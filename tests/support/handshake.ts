/** A WebSocket handshake against the local runtime, reduced to what a test asserts. */
import WebSocket from 'ws';

/** The handshake's HTTP status (101 when it opened) and, when refused, the body that came with it. */
export function handshake(wsUrl: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
    socket.once('open', () => {
      socket.close();
      resolve({ status: 101, body: '' });
    });
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.once('error', reject);
    });
    socket.once('error', reject);
  });
}
