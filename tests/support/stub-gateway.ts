/**
 * The real local `WebSocketGateway` on 127.0.0.1, in-process, around stub
 * functions instead of Lambda bundles: for tests of API Gateway's behaviour
 * (limits, framing) that need neither DynamoDB Local nor a build.
 *
 * `$connect` accepts everyone; `$default` records each event and, for a JSON
 * text message `{ id, action: 'echo', payload }`, answers through
 * `@connections` (the gateway's `post`) with `{ id, type: 'result', success:
 * true, data: payload }`, as the real router's `echo` does; `$disconnect`
 * records the close code. Options slow `$connect` down (handshake races),
 * hold `$default` invocations until released (queueing and fairness), and
 * override the gateway's limits.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocketEvent } from '../../local/api-gateway-events';
import type { InvocationOutcome } from '../../local/lambda-containers';
import { type WebSocketLimits, WebSocketGateway } from '../../local/websocket-gateway';
import { waitFor } from './wait-for';

export interface StubGateway {
  readonly url: string;
  readonly gateway: WebSocketGateway;
  /** Every `$default` event, in arrival order. */
  readonly messages: WebSocketEvent[];
  /** `disconnectStatusCode` of every `$disconnect` event. */
  readonly disconnectCodes: number[];
  /** How many `$connect` invocations answered 200. */
  readonly connects: () => number;
  /** Lets every held `$default` invocation (see `holdDefault`) finish, and the later ones run at once. */
  releaseDefault(): void;
  /** Resolves once `count` `$default` events have arrived. */
  messageCount(count: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StubGatewayOptions {
  /** Limits over the stub's defaults (60 s idle, 10 min lifetime, AWS sizes, the local defaults). */
  readonly limits?: Partial<WebSocketLimits>;
  /** `$connect` answers after this many milliseconds (default at once). */
  readonly connectDelayMs?: number;
  /** `$default` invocations are recorded at once but finish only after `releaseDefault()`. */
  readonly holdDefault?: boolean;
}

export async function startStubGateway(options: StubGatewayOptions = {}): Promise<StubGateway> {
  const messages: WebSocketEvent[] = [];
  const disconnectCodes: number[] = [];
  let connects = 0;
  let gateway: WebSocketGateway;
  let release: () => void = () => undefined;
  let held: Promise<void> = options.holdDefault ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();

  const invoke = async (fn: string, event: unknown): Promise<InvocationOutcome> => {
    const wsEvent = event as WebSocketEvent;
    if (fn === 'connect') {
      if (options.connectDelayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, options.connectDelayMs));
      connects += 1;
    }
    if (fn === 'router') {
      messages.push(wsEvent);
      await held;
      answerEcho(gateway, wsEvent);
    }
    if (fn === 'disconnect') disconnectCodes.push(Number(wsEvent.requestContext.disconnectStatusCode));
    return { ok: true, result: { statusCode: 200 }, requestId: `stub-${messages.length}` };
  };

  gateway = new WebSocketGateway({
    functions: { invoke },
    routes: { connect: 'connect', default: 'router', disconnect: 'disconnect' },
    api: { id: 'stubapi', stage: 'live' },
    limits: { idleTimeoutMs: 60_000, maxConnectionDurationMs: 600_000, ...options.limits },
  });
  const server: Server = createServer((_request, response) => response.writeHead(404).end());
  server.on('upgrade', (request, socket, head) => gateway.handleUpgrade(request, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `ws://127.0.0.1:${port}`,
    gateway,
    messages,
    disconnectCodes,
    connects: () => connects,
    releaseDefault: () => {
      held = Promise.resolve();
      release();
    },
    messageCount: (count) => waitFor(() => messages.length >= count),
    stop: async () => {
      await gateway.close(1000);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answerEcho(gateway: WebSocketGateway, event: WebSocketEvent): void {
  if (event.isBase64Encoded || event.body === undefined) return;
  let message: { id?: unknown; action?: unknown; payload?: unknown };
  try {
    message = JSON.parse(event.body) as typeof message;
  } catch {
    return;
  }
  if (message.action !== 'echo') return;
  const reply = { id: message.id, type: 'result', success: true, data: message.payload ?? {} };
  gateway.post(event.requestContext.connectionId, Buffer.from(JSON.stringify(reply)));
}
