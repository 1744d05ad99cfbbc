/**
 * A child process of the benchmark that opens many idle, authenticated
 * WebSocket connections and holds them. Several holders share the load so no
 * process (and no source address) runs out of file descriptors or ephemeral
 * ports. Driven over IPC:
 *
 *   parent → { type: 'open', urls: string[], count, parallel, localAddress }
 *   holder → { type: 'progress', opened, failed }   every 500 ms
 *   holder → { type: 'opened', opened, failed, elapsedMs, firstError }
 *   parent → { type: 'count' }   holder → { type: 'count', open }
 *   parent → { type: 'close' }   the holder drops every socket and exits
 */
import WebSocket from 'ws';

interface OpenCommand {
  readonly type: 'open';
  readonly urls: readonly string[];
  readonly count: number;
  readonly parallel: number;
  readonly localAddress?: string;
  readonly timeoutMs: number;
}

type Command = OpenCommand | { readonly type: 'count' } | { readonly type: 'close' };

const sockets: WebSocket[] = [];
const send = (message: object): void => {
  process.send?.(message);
};

function openOne(url: string, localAddress: string | undefined, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`handshake timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('open', () => {
      clearTimeout(timer);
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('unexpected-response', (_request, response) => {
      clearTimeout(timer);
      socket.terminate();
      reject(new Error(`handshake refused with HTTP ${response.statusCode}`));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function open(command: OpenCommand): Promise<void> {
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const began = performance.now();
  const ticker = setInterval(() => send({ type: 'progress', opened: sockets.length, failed }), 500);
  const worker = async (): Promise<void> => {
    while (next < command.count) {
      const index = next++;
      try {
        sockets.push(await openOne(command.urls[index % command.urls.length]!, command.localAddress, command.timeoutMs));
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(command.parallel, command.count) }, worker));
  clearInterval(ticker);
  send({ type: 'opened', opened: sockets.length, failed, elapsedMs: performance.now() - began, firstError });
}

process.on('message', (command: Command) => {
  switch (command.type) {
    case 'open':
      void open(command);
      return;
    case 'count':
      send({ type: 'count', open: sockets.filter((socket) => socket.readyState === WebSocket.OPEN).length });
      return;
    case 'close':
      for (const socket of sockets) socket.terminate();
      setTimeout(() => process.exit(0), 100);
  }
});
process.on('disconnect', () => process.exit(0));
