/**
 * The benchmark's WebSocket client: one `ws` socket that parses every frame
 * once, stamps it with its arrival time and hands it to whoever waits for
 * that client id. The same client measures the bare floor server and the
 * Streamer runtime, so the two figures differ only by the server.
 */
import WebSocket from 'ws';
import { nowMs } from './stats';

export interface Received {
  readonly message: ServerFrame;
  readonly at: number;
}

/** What the benchmark reads of a server frame. */
export interface ServerFrame {
  readonly id?: string | null;
  readonly type?: string;
  readonly requestId?: string;
  readonly progress?: number;
  readonly [key: string]: unknown;
}

export type FrameListener = (frame: ServerFrame, at: number) => void;

export interface OpenOptions {
  /** Local address to connect from (127.0.0.x spreads ephemeral ports over several addresses). */
  readonly localAddress?: string;
  readonly timeoutMs?: number;
}

export class BenchSocket {
  private readonly listeners = new Map<string, FrameListener>();
  /** Frames nobody listened for (counted; unexpected replies are a benchmark bug). */
  unclaimed = 0;
  received = 0;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => {
      const at = nowMs();
      this.received++;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(data.toString()) as ServerFrame;
      } catch {
        this.unclaimed++;
        return;
      }
      const listener = typeof frame.id === 'string' ? this.listeners.get(frame.id) : undefined;
      if (listener) listener(frame, at);
      else this.unclaimed++;
    });
  }

  static open(url: string, options: OpenOptions = {}): Promise<BenchSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`connect timed out after ${options.timeoutMs ?? 30_000} ms`));
      }, options.timeoutMs ?? 30_000);
      socket.once('open', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.on('error', () => undefined);
        resolve(new BenchSocket(socket));
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

  /** Routes every frame carrying this client id to `listener` until `off(id)`. */
  on(id: string, listener: FrameListener): void {
    this.listeners.set(id, listener);
  }

  off(id: string): void {
    this.listeners.delete(id);
  }

  send(text: string): void {
    this.socket.send(text);
  }

  /** Sends a frame and resolves with the first reply for `id` that `isFinal` accepts, and when it came. */
  request(id: string, text: string, isFinal: (frame: ServerFrame) => boolean, timeoutMs = 10_000): Promise<Received> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off(id);
        reject(new Error(`no reply to ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on(id, (frame, at) => {
        if (!isFinal(frame)) return;
        clearTimeout(timer);
        this.off(id);
        resolve({ message: frame, at });
      });
      this.send(text);
    });
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.terminate();
        resolve();
      }, 5000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.close(1000);
    });
  }
}

/** Opens `count` sockets, at most `parallel` handshakes at a time; resolves with the sockets and the time it took. */
export async function openMany(
  count: number,
  urlFor: (index: number) => string,
  options: { parallel?: number; localAddressFor?: (index: number) => string | undefined; timeoutMs?: number } = {},
): Promise<{ sockets: BenchSocket[]; elapsedMs: number; failures: number; firstError?: string }> {
  const sockets: BenchSocket[] = new Array(count);
  let next = 0;
  let failures = 0;
  let firstError: string | undefined;
  const began = nowMs();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      try {
        sockets[index] = await BenchSocket.open(urlFor(index), { localAddress: options.localAddressFor?.(index), timeoutMs: options.timeoutMs });
      } catch (error) {
        failures++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, options.parallel ?? 50) }, worker));
  return { sockets: sockets.filter((socket) => socket !== undefined), elapsedMs: nowMs() - began, failures, firstError };
}

export async function closeAll(sockets: readonly BenchSocket[]): Promise<void> {
  const parallel = 200;
  for (let i = 0; i < sockets.length; i += parallel) await Promise.all(sockets.slice(i, i + parallel).map((socket) => socket.close()));
}

/**
 * Sends one `ping` on every socket, `parallel` at a time, and waits for each
 * reply. A connection's first request makes the router lease rate-limit
 * tokens (one DynamoDB read and write per bucket); doing that gently before
 * a measured window keeps the window about steady state. Resolves with the
 * round trips.
 */
export async function warmUp(sockets: readonly BenchSocket[], parallel = 20, timeoutMs = 30_000): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < sockets.length) {
      const socket = sockets[next++]!;
      const id = `warm-${next}`;
      const sentAt = nowMs();
      const reply = await socket.request(id, JSON.stringify({ id, action: 'ping' }), () => true, timeoutMs);
      latencies.push(reply.at - sentAt);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, sockets.length) }, worker));
  return latencies;
}

/** Sends one `ping` on every socket at once and resolves with each round trip (a burst of first requests). */
export async function pingBurst(sockets: readonly BenchSocket[], label: string, timeoutMs = 60_000): Promise<number[]> {
  return Promise.all(
    sockets.map(async (socket, index) => {
      const id = `${label}-${index}`;
      const sentAt = nowMs();
      const reply = await socket.request(id, JSON.stringify({ id, action: 'ping' }), () => true, timeoutMs);
      return reply.at - sentAt;
    }),
  );
}
