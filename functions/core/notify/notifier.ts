/**
 * Sends protocol messages to connections through API Gateway's management
 * API. A 410 Gone means the client left: the connection is pruned once and
 * the send counts as done, so a vanished client never fails a request.
 */
import { PostToConnectionCommand, type ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { ServerMessage } from '../protocol/messages';
import { encodeServerMessage } from './encode-message';

export type SendOutcome = 'sent' | 'gone' | 'failed';

export interface Notifier {
  send(connectionId: string, message: ServerMessage): Promise<SendOutcome>;
}

/** Called once per gone connection to remove its records. */
export type PruneGoneConnection = (connectionId: string) => Promise<void>;

export interface NotifierLogger {
  warn(message: string, details: Record<string, unknown>): void;
}

function isGone(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return error.name === 'GoneException' || status === 410;
}

/** Turns a message into the text that may be sent (`deliveryText`); plain serialisation when absent. */
export type EncodeForDelivery = (message: ServerMessage) => Promise<string>;

export class ApiGatewayNotifier implements Notifier {
  /** Connections already pruned by this instance; bounded so a long-lived container does not grow. */
  private readonly pruned = new Set<string>();
  sentCount = 0;
  goneCount = 0;

  constructor(
    private readonly client: ApiGatewayManagementApiClient,
    private readonly pruneGoneConnection: PruneGoneConnection,
    private readonly logger: NotifierLogger = { warn: () => undefined },
    private readonly encode: EncodeForDelivery = async (message) => encodeServerMessage(message),
  ) {}

  async send(connectionId: string, message: ServerMessage): Promise<SendOutcome> {
    if (this.pruned.has(connectionId)) return 'gone';
    try {
      const text = await this.encode(message);
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(text) }));
      this.sentCount++;
      return 'sent';
    } catch (error) {
      if (isGone(error)) {
        this.goneCount++;
        await this.pruneOnce(connectionId);
        return 'gone';
      }
      // Throttling and 5xx were already retried by the SDK; the request's state is stored, so the
      // client can still read or subscribe to it. Never fail the request for a lost message.
      this.logger.warn('PostToConnection failed', { connectionId, error: error instanceof Error ? error.name : String(error) });
      return 'failed';
    }
  }

  private async pruneOnce(connectionId: string): Promise<void> {
    if (this.pruned.has(connectionId)) return;
    if (this.pruned.size >= 10_000) this.pruned.clear();
    this.pruned.add(connectionId);
    try {
      await this.pruneGoneConnection(connectionId);
    } catch (error) {
      this.logger.warn('Pruning a gone connection failed; its TTL will remove it', {
        connectionId,
        error: error instanceof Error ? error.name : String(error),
      });
    }
  }
}
