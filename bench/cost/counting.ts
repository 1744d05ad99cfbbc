/**
 * Counting stand-ins for what a request costs on AWS. DynamoDB is the real
 * DynamoDB Local: only the client's `send` is wrapped, to record each call
 * (API, table, outcome) and the capacity DynamoDB itself reports
 * (`ReturnConsumedCapacity: INDEXES`, index writes included). The
 * management API and Lambda's async invoke cannot run here: a notifier and a
 * dispatcher count what would have been sent.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WorkDispatcher, WorkerEvent } from '../../functions/core/dispatcher';
import { claimAndRunDirectly } from '../../functions/core/lifecycle/direct-dispatch';
import { FUNCTION_DEFAULTS } from '../../functions/core/cloud-shapes';
import type { StreamerDeps } from '../../functions/core/lifecycle/deps';
import { runClaimedRequest } from '../../functions/core/lifecycle/run-claimed-request';
import type { Notifier, SendOutcome } from '../../functions/core/notify/notifier';
import { encodeServerMessage } from '../../functions/core/notify/encode-message';
import type { ServerMessage } from '../../functions/core/protocol/messages';

/** DynamoDB API names of the document client's commands. */
const API_NAMES: Readonly<Record<string, string>> = {
  PutCommand: 'PutItem',
  GetCommand: 'GetItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  BatchWriteCommand: 'BatchWriteItem',
  BatchGetCommand: 'BatchGetItem',
  TransactWriteCommand: 'TransactWriteItems',
  TransactGetCommand: 'TransactGetItems',
};
const WRITE_APIS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

export interface DynamoCall {
  readonly api: string;
  readonly table: string;
  readonly kind: 'read' | 'write';
  /** Capacity units DynamoDB reported (table and indexes); a failed conditional write is counted as 1. */
  readonly units: number;
  readonly outcome: 'ok' | string;
  readonly ms: number;
}

interface ConsumedCapacityLike {
  readonly TableName?: string;
  readonly CapacityUnits?: number;
}

/** Wraps `doc.send` in place; every call lands in `calls`. */
export class DynamoCallCounter {
  readonly calls: DynamoCall[] = [];

  constructor(doc: DynamoDBDocumentClient, private readonly shortName: (table: string) => string) {
    const original = doc.send.bind(doc) as (command: unknown) => Promise<unknown>;
    const counter = this;
    (doc as unknown as { send: (command: unknown) => Promise<unknown> }).send = async function countedSend(command: unknown): Promise<unknown> {
      const name = (command as object).constructor.name;
      const api = API_NAMES[name] ?? name.replace(/Command$/, '');
      const input = (command as { input: Record<string, unknown> }).input;
      const tables = typeof input.TableName === 'string' ? [input.TableName] : Object.keys((input.RequestItems as object | undefined) ?? {});
      input.ReturnConsumedCapacity = 'INDEXES';
      const kind = WRITE_APIS.has(api) ? 'write' : 'read';
      const began = performance.now();
      try {
        const out = (await original(command)) as { ConsumedCapacity?: ConsumedCapacityLike | ConsumedCapacityLike[] };
        const consumed = Array.isArray(out.ConsumedCapacity) ? out.ConsumedCapacity : out.ConsumedCapacity ? [out.ConsumedCapacity] : [];
        const ms = performance.now() - began;
        for (const table of tables) {
          const units = consumed.filter((c) => c.TableName === table).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
          counter.calls.push({ api, table: shortName(table), kind, units, outcome: 'ok', ms });
        }
        return out;
      } catch (error) {
        const ms = performance.now() - began;
        // AWS charges a refused conditional write at least one write unit.
        for (const table of tables) counter.calls.push({ api, table: shortName(table), kind, units: kind === 'write' ? 1 : 0.5, outcome: (error as Error).name, ms });
        throw error;
      }
    };
  }

  reset(): void {
    this.calls.length = 0;
  }
}

export interface PostedMessage {
  readonly connectionId: string;
  readonly type: string;
  readonly bytes: number;
}

/** One message as API Gateway counts it, in the bytes the client receives. */
export function postedMessage(connectionId: string, message: ServerMessage): PostedMessage {
  return { connectionId, type: message.type, bytes: Buffer.byteLength(encodeServerMessage(message)) };
}

/** Stands in for `ApiGatewayNotifier`: one entry per PostToConnection call. */
export class CountingNotifier implements Notifier {
  readonly posted: PostedMessage[] = [];
  readonly messages: ServerMessage[] = [];

  async send(connectionId: string, message: ServerMessage): Promise<SendOutcome> {
    this.posted.push(postedMessage(connectionId, message));
    this.messages.push(message);
    return 'sent';
  }

  reset(): void {
    this.posted.length = 0;
    this.messages.length = 0;
  }
}

/**
 * Stands in for Lambda's async invoke of the worker: runs it here and times
 * it. A `streamer.run` is the stream consumer's dispatch, a `streamer.claim`
 * the router's direct dispatch (the worker claims, then runs).
 */
export class CountingDispatcher implements WorkDispatcher {
  deps!: StreamerDeps;
  readonly runs: Array<{ promise: Promise<void>; ms?: number; event: WorkerEvent['type'] }> = [];
  /** The processor's default timeout: what the worker's budget counts down from. */
  private readonly budgetMs = FUNCTION_DEFAULTS.processor.timeoutSeconds * 1000;

  async dispatch(event: WorkerEvent): Promise<void> {
    const began = performance.now();
    const remaining = (): number => this.budgetMs - (performance.now() - began);
    const run: { promise: Promise<void>; ms?: number; event: WorkerEvent['type'] } = { promise: Promise.resolve(), event: event.type };
    const work = event.type === 'streamer.claim' ? claimAndRunDirectly(this.deps, event, remaining) : runClaimedRequest(this.deps, event, remaining);
    run.promise = work.then(() => {
      run.ms = performance.now() - began;
    });
    this.runs.push(run);
  }

  async idle(): Promise<void> {
    for (let seen = 0; seen < this.runs.length; seen = this.runs.length) await Promise.all(this.runs.slice(seen).map((run) => run.promise));
  }

  reset(): void {
    this.runs.length = 0;
  }
}
