/**
 * A scriptable Streamer server for the SDK's unit tests: a real `ws` server
 * on 127.0.0.1 (port 0) that records every frame and lets each test decide
 * how to answer. It answers `ping` with `pong` unless told not to.
 */
import { WebSocketServer, WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';

export interface ClientFrame {
  readonly id: string;
  readonly action: string;
  readonly payload: Record<string, unknown>;
  readonly idempotencyKey?: string;
}

export interface ReceivedFrame {
  readonly frame: ClientFrame;
  /** Index of the connection (0 = first) it arrived on. */
  readonly connection: number;
  readonly socket: WebSocket;
}

export type FrameHandler = (frame: ClientFrame, socket: WebSocket, server: FakeStreamerServer) => void;

export class FakeStreamerServer {
  readonly frames: ReceivedFrame[] = [];
  readonly sockets: WebSocket[] = [];
  /** Every handshake attempt, accepted or not, with the token it carried. */
  readonly handshakes: Array<{ token: string | null; status: number }> = [];
  /** HTTP status to refuse handshakes with (e.g. 401, 503); null accepts them. */
  refuseWith: number | null = null;
  answerPings = true;
  private handler: FrameHandler = () => {};
  private waiters: Array<{ predicate: (f: ReceivedFrame) => boolean; resolve: (f: ReceivedFrame) => void }> = [];
  private connectionWaiters: Array<{ count: number; resolve: () => void }> = [];

  private constructor(private readonly wss: WebSocketServer) {}

  static async start(): Promise<FakeStreamerServer> {
    let server!: FakeStreamerServer;
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (info, callback) => {
        const token = new URL(info.req.url ?? '/', 'http://x').searchParams.get('token');
        const status = server.refuseWith ?? 101;
        server.handshakes.push({ token, status });
        if (server.refuseWith !== null) callback(false, server.refuseWith);
        else callback(true);
      },
    });
    server = new FakeStreamerServer(wss);
    wss.on('connection', (socket) => server.accept(socket));
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    return server;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  /** How the server answers frames other than an answered `ping`. */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
  }

  send(socket: WebSocket, message: unknown): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The latest open connection. */
  get current(): WebSocket {
    const socket = this.sockets[this.sockets.length - 1];
    if (socket === undefined) throw new Error('no connection yet');
    return socket;
  }

  framesOf(action: string): ClientFrame[] {
    return this.frames.filter((f) => f.frame.action === action).map((f) => f.frame);
  }

  /** Resolves with the first frame (already received or future) that matches. */
  waitForFrame(predicate: (frame: ClientFrame) => boolean, timeoutMs = 5000): Promise<ReceivedFrame> {
    const seen = this.frames.find((f) => predicate(f.frame));
    if (seen !== undefined) return Promise.resolve(seen);
    return withTimeout(
      new Promise<ReceivedFrame>((resolve) => this.waiters.push({ predicate: (f) => predicate(f.frame), resolve })),
      timeoutMs,
      'frame',
    );
  }

  /** Resolves once `count` connections have been accepted in total. */
  waitForConnections(count: number, timeoutMs = 5000): Promise<void> {
    if (this.sockets.length >= count) return Promise.resolve();
    return withTimeout(new Promise<void>((resolve) => this.connectionWaiters.push({ count, resolve })), timeoutMs, `${count} connections`);
  }

  /** Cuts every connection without a close handshake, like a network failure. */
  dropAll(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  async stop(): Promise<void> {
    for (const socket of this.wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(socket: WebSocket): void {
    const connection = this.sockets.length;
    this.sockets.push(socket);
    for (const waiter of this.connectionWaiters.filter((w) => this.sockets.length >= w.count)) waiter.resolve();
    this.connectionWaiters = this.connectionWaiters.filter((w) => this.sockets.length < w.count);
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ClientFrame;
      const received: ReceivedFrame = { frame, connection, socket };
      this.frames.push(received);
      for (const waiter of this.waiters.filter((w) => w.predicate(received))) waiter.resolve(received);
      this.waiters = this.waiters.filter((w) => !w.predicate(received));
      if (frame.action === 'ping') {
        if (this.answerPings) this.send(socket, { id: frame.id, type: 'pong' });
        return;
      }
      this.handler(frame, socket, this);
    });
  }
}

export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    }),
  ]);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
