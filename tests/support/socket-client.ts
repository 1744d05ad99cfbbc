/** A WebSocket test client that queues what it receives, so tests can await the next matching message. */
import WebSocket from 'ws';
import { WEBSOCKET_LIMITS } from '../../functions/core/aws-limits';
import { frameSlices } from '../../functions/core/protocol/frames';

export interface TestSocket {
  readonly socket: WebSocket;
  /** Every message received so far, parsed as JSON when possible. */
  readonly received: unknown[];
  /**
   * Sends one text message (a string as is, anything else as JSON), in frames
   * of at most API Gateway's 32 KB as a conforming client does; use `socket.send`
   * to send a single frame of any size.
   */
  send(message: unknown): void;
  /** Resolves with the first message (already received or upcoming) that matches. */
  next<T = Record<string, unknown>>(matches?: (message: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves with the close code and reason. */
  closed(): Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export function openSocket(url: string, protocols?: string[]): Promise<TestSocket> {
  const socket = new WebSocket(url, protocols);
  const received: unknown[] = [];
  const waiters = new Set<() => void>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
  );
  socket.on('message', (data) => {
    const text = data.toString();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    received.push(parsed);
    for (const wake of waiters) wake();
  });

  const client: TestSocket = {
    socket,
    received,
    send: (message) => {
      const text = typeof message === 'string' ? message : JSON.stringify(message);
      const slices = frameSlices(Buffer.from(text, 'utf8'), WEBSOCKET_LIMITS.maxFrameBytes);
      slices.forEach((slice, index) => socket.send(slice, { binary: false, fin: index === slices.length - 1 }));
    },
    next: <T>(matches: (message: T) => boolean = () => true, timeoutMs = 10_000) =>
      new Promise<T>((resolve, reject) => {
        let from = 0;
        const check = (): boolean => {
          for (; from < received.length; from += 1) {
            if (matches(received[from] as T)) {
              resolve(received[from] as T);
              return true;
            }
          }
          return false;
        };
        if (check()) return;
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`no matching message within ${timeoutMs} ms; received ${JSON.stringify(received).slice(0, 2000)}`));
        }, timeoutMs);
        const wake = (): void => {
          if (check()) {
            clearTimeout(timer);
            waiters.delete(wake);
          }
        };
        waiters.add(wake);
      }),
    closed: () => closed,
    close: async () => {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close(1000);
      await closed;
    },
  };

  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('unexpected-response', (_request, response) => {
      reject(Object.assign(new Error(`handshake refused with HTTP ${response.statusCode}`), { statusCode: response.statusCode }));
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

/**
 * Opens a socket and tells which connection id the runtime gave it (the
 * connection its `listConnections` did not list before). Open tracked
 * sockets one at a time.
 */
export async function openTrackedSocket(
  runtime: { listConnections(): Promise<Array<{ connectionId: string }>> },
  url: string,
): Promise<{ socket: TestSocket; connectionId: string }> {
  const before = new Set((await runtime.listConnections()).map((c) => c.connectionId));
  const socket = await openSocket(url);
  const added = (await runtime.listConnections()).filter((c) => !before.has(c.connectionId));
  if (added.length !== 1) throw new Error(`expected one new connection, found ${added.length}`);
  return { socket, connectionId: added[0]!.connectionId };
}
