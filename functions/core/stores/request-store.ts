/**
 * The requests table, where every lifecycle transition is a conditional
 * write: `queued → processing` only from `queued` (a redelivered stream
 * record cannot start a second run), and every later write of a run only
 * while that run still holds the lease (`run_id`), so a run that lost its
 * lease can never overwrite the state of the run that replaced it.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LEASE_SHARDS } from '../cloud-shapes';
import type { WireError } from '../errors';
import type { JsonValue, RequestStatus } from '../protocol/messages';
import { isConditionFailure } from './dynamo-errors';
import type { RequestRecord } from './records';
import type { StoredResultObject } from '../large-results/result-objects';

export interface ClaimInput {
  readonly requestId: string;
  readonly runId: string;
  readonly now: number;
  readonly leaseExpiresAt: number;
  /**
   * Claim only a request that never ran (no `started_at`): the router's direct
   * dispatch is about the request it just stored, so a late invoke never takes
   * a retry or a continuation, which the stream offers with its own rules.
   */
  readonly firstRunOnly?: boolean;
}

export interface HeartbeatInput {
  readonly requestId: string;
  readonly runId: string;
  readonly now: number;
  readonly leaseExpiresAt: number;
  readonly progress: number;
  readonly message?: string;
}

export type HeartbeatOutcome =
  | { readonly held: true; readonly cancelRequested: boolean; readonly subscriptionVersion: number }
  | { readonly held: false };

export interface FinishInput {
  readonly requestId: string;
  readonly runId: string;
  readonly now: number;
  readonly status: Extract<RequestStatus, 'completed' | 'failed' | 'cancelled'>;
  readonly result?: JsonValue;
  /** Set instead of `result` when the result was stored in the results bucket. */
  readonly resultObject?: StoredResultObject;
  readonly error?: WireError;
  /** The `seq` of the request's last progress message, kept for the final message a later subscriber gets. */
  readonly progressSeq?: number;
}

export interface RequeueInput {
  readonly requestId: string;
  /** The run giving the request back; `undefined` re-emits a `queued` request nobody claimed. */
  readonly runId?: string;
  readonly now: number;
  /** Lease for the queued state: if nobody claims it by then, the sweeper re-emits it. */
  readonly leaseExpiresAt: number;
  readonly attempts?: number;
  readonly notBefore?: number;
  readonly lastError?: WireError;
  readonly checkpoint?: JsonValue;
  readonly continuations?: number;
  /** The `seq` of the giving-back run's last progress message: the next run numbers on from it. */
  readonly progressSeq?: number;
  /** Only requeue if the lease is still expired at this time (the sweeper must not steal a renewed lease). */
  readonly leaseExpiredBefore?: number;
}

/** What a running request's owner polls cheaply: whether it still holds the run and whether cancel was asked. */
export interface RunControl {
  readonly status: RequestStatus;
  readonly runId?: string;
  readonly cancelRequested: boolean;
  /** Bumped by every subscribe and unsubscribe while the request runs: the run re-reads its audience when it changes. */
  readonly subscriptionVersion: number;
}

export interface ExpiredLease {
  readonly requestId: string;
  readonly leaseExpiresAt: number;
}

export interface RequestStore {
  /** Writes a new `queued` request; fails if the id exists. */
  create(record: RequestRecord): Promise<void>;
  /** Writes a new `queued` request unless one with its id exists; false when it does. */
  createIfAbsent(record: RequestRecord): Promise<boolean>;
  get(requestId: string, consistent?: boolean): Promise<RequestRecord | undefined>;
  /** `queued → processing` for one run; `undefined` when the request is no longer queued. */
  claim(input: ClaimInput): Promise<RequestRecord | undefined>;
  heartbeat(input: HeartbeatInput): Promise<HeartbeatOutcome>;
  readRunControl(requestId: string): Promise<RunControl | undefined>;
  /** Terminal write by the run holding the lease; false when the run lost it. */
  finish(input: FinishInput): Promise<boolean>;
  /** Gives the request back to the queue (retry, continuation, dead run, lost dispatch). */
  requeue(input: RequeueInput): Promise<boolean>;
  /** `queued → cancelled` (nobody runs it yet); false when it is not queued any more. */
  cancelQueued(requestId: string, now: number, error: WireError): Promise<RequestRecord | undefined>;
  /** Flags a `processing` request; its run sees the flag and ends `cancelled`. */
  requestCancel(requestId: string, now: number): Promise<boolean>;
  /**
   * Tells a `processing` request's run that its subscribers changed (one
   * conditional write per subscribe or unsubscribe, which are rare), so the
   * run re-reads them only then; false when the request is not running (a
   * queued request's run reads its subscribers when it starts).
   */
  bumpSubscriptionVersion(requestId: string): Promise<boolean>;
  /** Requests whose lease expired before `now` (crashed runs, lost dispatches), oldest first. */
  findExpiredLeases(now: number, limit: number): Promise<ExpiredLease[]>;
}

export function leaseShardFor(requestId: string): string {
  let hash = 0;
  for (let i = 0; i < requestId.length; i++) hash = (hash * 31 + requestId.charCodeAt(i)) >>> 0;
  return `lease#${hash % LEASE_SHARDS}`;
}

export class DynamoRequestStore implements RequestStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async create(record: RequestRecord): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: record, ConditionExpression: 'attribute_not_exists(request_id)' }),
    );
  }

  async createIfAbsent(record: RequestRecord): Promise<boolean> {
    try {
      await this.create(record);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async get(requestId: string, consistent = false): Promise<RequestRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { request_id: requestId }, ConsistentRead: consistent }),
    );
    return out.Item as RequestRecord | undefined;
  }

  async claim(input: ClaimInput): Promise<RequestRecord | undefined> {
    return this.conditionalUpdate({
      Key: { request_id: input.requestId },
      UpdateExpression:
        'SET #status = :processing, run_id = :run, lease_shard = :shard, lease_expires_at = :lease, ' +
        'started_at = if_not_exists(started_at, :now), updated_at = :now, attempts = attempts + :one',
      ConditionExpression:
        '#status = :queued AND attribute_not_exists(cancel_requested)' + (input.firstRunOnly ? ' AND attribute_not_exists(started_at)' : ''),
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':processing': 'processing',
        ':queued': 'queued',
        ':run': input.runId,
        ':shard': leaseShardFor(input.requestId),
        ':lease': input.leaseExpiresAt,
        ':now': input.now,
        ':one': 1,
      },
      ReturnValues: 'ALL_NEW',
    });
  }

  async heartbeat(input: HeartbeatInput): Promise<HeartbeatOutcome> {
    const values: Record<string, unknown> = {
      ':run': input.runId,
      ':processing': 'processing',
      ':lease': input.leaseExpiresAt,
      ':now': input.now,
      ':progress': input.progress,
    };
    let set = 'SET lease_expires_at = :lease, updated_at = :now, progress = :progress';
    if (input.message !== undefined) {
      set += ', #message = :message';
      values[':message'] = input.message;
    }
    const updated = await this.conditionalUpdate({
      Key: { request_id: input.requestId },
      UpdateExpression: set,
      ConditionExpression: 'run_id = :run AND #status = :processing',
      ExpressionAttributeNames: { '#status': 'status', ...(input.message !== undefined ? { '#message': 'message' } : {}) },
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    });
    return updated
      ? { held: true, cancelRequested: updated.cancel_requested === true, subscriptionVersion: updated.subscription_version ?? 0 }
      : { held: false };
  }

  async readRunControl(requestId: string): Promise<RunControl | undefined> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { request_id: requestId },
        ProjectionExpression: '#status, run_id, cancel_requested, subscription_version',
        ExpressionAttributeNames: { '#status': 'status' },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    return {
      status: out.Item.status as RequestStatus,
      runId: out.Item.run_id as string | undefined,
      cancelRequested: out.Item.cancel_requested === true,
      subscriptionVersion: typeof out.Item.subscription_version === 'number' ? out.Item.subscription_version : 0,
    };
  }

  async finish(input: FinishInput): Promise<boolean> {
    const values: Record<string, unknown> = {
      ':run': input.runId,
      ':processing': 'processing',
      ':status': input.status,
      ':now': input.now,
    };
    let set = 'SET #status = :status, updated_at = :now, completed_at = :now';
    if (input.status === 'completed' && input.resultObject !== undefined) {
      set += ', progress = :one, result_object = :resultObject';
      values[':one'] = 1;
      values[':resultObject'] = input.resultObject;
    } else if (input.status === 'completed') {
      set += ', progress = :one, #result = :result';
      values[':one'] = 1;
      values[':result'] = input.result ?? null;
    }
    if (input.error !== undefined) {
      set += ', #error = :error';
      values[':error'] = input.error;
    }
    if (input.progressSeq !== undefined) {
      set += ', progress_seq = :seq';
      values[':seq'] = input.progressSeq;
    }
    const updated = await this.conditionalUpdate({
      Key: { request_id: input.requestId },
      UpdateExpression: `${set} REMOVE lease_shard, lease_expires_at, run_id, checkpoint`,
      ConditionExpression: 'run_id = :run AND #status = :processing',
      ExpressionAttributeNames: {
        '#status': 'status',
        ...(input.status === 'completed' && input.resultObject === undefined ? { '#result': 'result' } : {}),
        ...(input.error !== undefined ? { '#error': 'error' } : {}),
      },
      ExpressionAttributeValues: values,
      ReturnValues: 'UPDATED_NEW',
    });
    return updated !== undefined;
  }

  async requeue(input: RequeueInput): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {
      ':queued': 'queued',
      ':now': input.now,
      ':shard': leaseShardFor(input.requestId),
      ':lease': input.leaseExpiresAt,
    };
    const sets = ['#status = :queued', 'updated_at = :now', 'lease_shard = :shard', 'lease_expires_at = :lease'];
    const optional: Array<[string, unknown]> = [
      ['attempts', input.attempts],
      ['not_before', input.notBefore],
      ['last_error', input.lastError],
      ['checkpoint', input.checkpoint],
      ['continuations', input.continuations],
      ['progress_seq', input.progressSeq],
    ];
    for (const [attribute, value] of optional) {
      if (value === undefined) continue;
      sets.push(`${attribute} = :${attribute}`);
      values[`:${attribute}`] = value;
    }
    let condition: string;
    if (input.runId !== undefined) {
      condition = 'run_id = :run AND #status = :processing';
      values[':run'] = input.runId;
      values[':processing'] = 'processing';
    } else {
      condition = '#status = :queued';
    }
    if (input.leaseExpiredBefore !== undefined) {
      condition += ' AND lease_expires_at < :expiredBefore';
      values[':expiredBefore'] = input.leaseExpiredBefore;
    }
    const remove = input.runId !== undefined ? ' REMOVE run_id' : '';
    const updated = await this.conditionalUpdate({
      Key: { request_id: input.requestId },
      UpdateExpression: `SET ${sets.join(', ')}${remove}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'UPDATED_NEW',
    });
    return updated !== undefined;
  }

  async cancelQueued(requestId: string, now: number, error: WireError): Promise<RequestRecord | undefined> {
    return this.conditionalUpdate({
      Key: { request_id: requestId },
      UpdateExpression:
        'SET #status = :cancelled, updated_at = :now, completed_at = :now, #error = :error REMOVE lease_shard, lease_expires_at',
      ConditionExpression: '#status = :queued',
      ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
      ExpressionAttributeValues: { ':cancelled': 'cancelled', ':queued': 'queued', ':now': now, ':error': error },
      ReturnValues: 'ALL_NEW',
    });
  }

  async requestCancel(requestId: string, now: number): Promise<boolean> {
    const updated = await this.conditionalUpdate({
      Key: { request_id: requestId },
      UpdateExpression: 'SET cancel_requested = :yes, updated_at = :now',
      ConditionExpression: '#status = :processing',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':yes': true, ':processing': 'processing', ':now': now },
      ReturnValues: 'UPDATED_NEW',
    });
    return updated !== undefined;
  }

  async bumpSubscriptionVersion(requestId: string): Promise<boolean> {
    const updated = await this.conditionalUpdate({
      Key: { request_id: requestId },
      UpdateExpression: 'ADD subscription_version :one',
      ConditionExpression: '#status = :processing',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':one': 1, ':processing': 'processing' },
      ReturnValues: 'UPDATED_NEW',
    });
    return updated !== undefined;
  }

  async findExpiredLeases(now: number, limit: number): Promise<ExpiredLease[]> {
    const found: ExpiredLease[] = [];
    for (let shard = 0; shard < LEASE_SHARDS && found.length < limit; shard++) {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'by_lease',
          KeyConditionExpression: 'lease_shard = :shard AND lease_expires_at < :now',
          ExpressionAttributeValues: { ':shard': `lease#${shard}`, ':now': now },
          Limit: limit - found.length,
        }),
      );
      for (const item of out.Items ?? []) {
        found.push({ requestId: String(item.request_id), leaseExpiresAt: Number(item.lease_expires_at) });
      }
    }
    return found.sort((a, b) => a.leaseExpiresAt - b.leaseExpiresAt);
  }

  private async conditionalUpdate(
    command: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
  ): Promise<RequestRecord | undefined> {
    try {
      const out = await this.db.send(new UpdateCommand({ TableName: this.table, ...command }));
      return (out.Attributes ?? {}) as RequestRecord;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }
}
