/**
 * Stored shapes (attribute names as in DynamoDB, snake_case as in the seeds).
 * Key and index names come from `cloud-shapes.ts`.
 */
import type { WireError } from '../errors';
import type { JsonObject, JsonValue, RequestStatus } from '../protocol/messages';
import type { StoredResultObject } from '../large-results/result-objects';

export interface ConnectionRecord {
  readonly connection_id: string;
  readonly user_id: string;
  readonly tenant_id: string;
  /** `tenantUserKey(tenant_id, user_id)` (`identity-key.ts`): the key of the `by_user` index. */
  readonly tenant_user: string;
  readonly permissions: readonly string[];
  readonly connected_at: number;
  readonly last_ping: number;
  readonly source_ip?: string;
  readonly ttl: number;
}

export interface RequestRecord {
  readonly request_id: string;
  readonly connection_id: string;
  /** The client's correlation id, carried back on every message about this request. */
  readonly client_id: string;
  readonly user_id: string;
  readonly tenant_id: string;
  readonly action: string;
  readonly payload: JsonObject;
  readonly status: RequestStatus;
  readonly progress: number;
  readonly message?: string;
  /** Runs started so far (a retry is a new run; a continuation is not counted). */
  readonly attempts: number;
  readonly max_retries: number;
  readonly continuations?: number;
  readonly created_at: number;
  readonly updated_at: number;
  readonly started_at?: number;
  readonly completed_at?: number;
  readonly result?: JsonValue;
  /** A result too large to keep in the item (or send in a message): where it is in the results bucket, in place of `result`. */
  readonly result_object?: StoredResultObject;
  readonly error?: WireError;
  readonly last_error?: WireError;
  /** The run that holds the lease; every write of a run is conditional on it. */
  readonly run_id?: string;
  readonly lease_shard?: string;
  readonly lease_expires_at?: number;
  /** A retry waits until this time (epoch ms) before it runs. */
  readonly not_before?: number;
  readonly cancel_requested?: boolean;
  /** Counts subscribes and unsubscribes while the request runs (`bumpSubscriptionVersion`). */
  readonly subscription_version?: number;
  readonly checkpoint?: JsonValue;
  /** The `seq` of the last progress message, stored with the terminal write (final messages carry it as `lastSeq`). */
  readonly progress_seq?: number;
  readonly ttl: number;
}

export interface SubscriptionRecord {
  readonly request_id: string;
  readonly connection_id: string;
  /** The `id` of the subscribe frame: messages to this subscriber carry it. */
  readonly client_id: string;
  readonly created_at: number;
  readonly ttl: number;
}

/** An idempotency key's claim: which request the key started. */
export interface IdempotencyRecord {
  /** `idempotencyRecordKey(tenant_id, user_id, key)` (`identity-key.ts`). */
  readonly idempotency_key: string;
  readonly request_id: string;
  /** What the key was first sent with (`requestFingerprint`): the same key with another action or payload is refused. */
  readonly fingerprint: string;
  readonly created_at: number;
  /** The request's own expiry: the key is remembered exactly as long as the request. */
  readonly ttl: number;
}

/** One progress message of a request, as logged for replay. */
export interface ProgressLogRecord {
  readonly request_id: string;
  readonly seq: number;
  /** `{ progress, message?, metadata? }` as JSON, bounded (`PROGRESS_LOG_LIMITS.maxEntryBytes`). */
  readonly entry: string;
  readonly ttl: number;
}
