/**
 * The objects of the emulated S3 buckets, in memory (a local runtime's
 * results and uploads live as long as it does), with the buckets' lifecycle
 * expiration rules applied by a periodic sweep.
 *
 * S3 applies an expiration rule at the first midnight UTC after the object
 * is `days` old and may take a while to delete it; readers must treat it as
 * gone from then on. The sweep deletes at `days` exactly, which is never
 * later than AWS would: code that works here copes with AWS's delay.
 */
import { createHash } from 'node:crypto';
import type { DeployedBucket } from './deployment';

export interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
  /** The MD5 of the body in hex, quoted, as S3's ETag of a single-part upload. */
  readonly etag: string;
  readonly lastModified: Date;
  /** `x-amz-meta-*` headers as sent. */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface PutObjectInput {
  readonly body: Buffer;
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

const DAY_MS = 86_400_000;

export class BucketObjects {
  private readonly byBucket = new Map<string, Map<string, StoredObject>>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly buckets: readonly DeployedBucket[],
    private readonly now: () => number = Date.now,
    /** How long a lifecycle "day" lasts here: a test shortens it, the runtime keeps a day. */
    private readonly dayMs: number = DAY_MS,
  ) {
    for (const bucket of buckets) this.byBucket.set(bucket.name, new Map());
  }

  hasBucket(name: string): boolean {
    return this.byBucket.has(name);
  }

  put(bucket: string, key: string, input: PutObjectInput): StoredObject {
    const object: StoredObject = {
      body: input.body,
      contentType: input.contentType ?? 'binary/octet-stream',
      etag: `"${createHash('md5').update(input.body).digest('hex')}"`,
      lastModified: new Date(this.now()),
      metadata: input.metadata ?? {},
    };
    this.objects(bucket).set(key, object);
    return object;
  }

  /** The object, unless absent or already past its lifecycle expiration. */
  get(bucket: string, key: string): StoredObject | undefined {
    const object = this.objects(bucket).get(key);
    if (object === undefined) return undefined;
    if (this.isExpired(bucket, key, object)) {
      this.objects(bucket).delete(key);
      return undefined;
    }
    return object;
  }

  delete(bucket: string, key: string): void {
    this.objects(bucket).delete(key);
  }

  /** Deletes every object a lifecycle rule has expired; returns how many. */
  sweep(): number {
    let deleted = 0;
    for (const [bucket, objects] of this.byBucket) {
      for (const [key, object] of objects) {
        if (!this.isExpired(bucket, key, object)) continue;
        objects.delete(key);
        deleted++;
      }
    }
    return deleted;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private objects(bucket: string): Map<string, StoredObject> {
    const objects = this.byBucket.get(bucket);
    if (objects === undefined) throw new Error(`no bucket ${bucket}`);
    return objects;
  }

  /** The shortest expiration of the enabled rules whose prefix the key starts with. */
  private isExpired(bucket: string, key: string, object: StoredObject): boolean {
    const rules = this.buckets.find((candidate) => candidate.name === bucket)?.lifecycle ?? [];
    const days = rules.filter((rule) => key.startsWith(rule.prefix)).map((rule) => rule.expirationDays);
    if (days.length === 0) return false;
    return this.now() >= object.lastModified.getTime() + Math.min(...days) * this.dayMs;
  }
}
