/**
 * The results bucket as the functions use it: store an object, read one
 * (bounded), and sign short-lived URLs a client uses directly (GET for a
 * large result, PUT for an upload). A presigned URL carries the signing
 * function's rights for its lifetime, so the core signs one only after it
 * has checked the caller owns what the URL reaches.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { uninstrumented, type InstrumentClient } from '../observability';

/** A URL a client can use without credentials until `expiresAt` (epoch ms). */
export interface SignedUrl {
  readonly url: string;
  readonly expiresAt: number;
}

export interface ObjectStore {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** The object's bytes; `undefined` when there is none; `'too-large'` when it is over `maxBytes` (nothing is read then). */
  read(key: string, maxBytes: number): Promise<Uint8Array | undefined | 'too-large'>;
  signGet(key: string): Promise<SignedUrl>;
  /** A PUT URL for exactly `bytes` bytes (the length is signed, so S3 refuses any other). */
  signPut(key: string, bytes: number, contentType: string): Promise<SignedUrl>;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound';
}

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly urlTtlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async read(key: string, maxBytes: number): Promise<Uint8Array | undefined | 'too-large'> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      if ((head.ContentLength ?? 0) > maxBytes) return 'too-large';
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = await object.Body!.transformToByteArray();
      // Written between the two calls: measure what was read, not what was announced.
      return bytes.length > maxBytes ? 'too-large' : bytes;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async signGet(key: string): Promise<SignedUrl> {
    const signedAt = this.now();
    const url = await getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: this.urlTtlSeconds });
    return { url, expiresAt: signedAt + this.urlTtlSeconds * 1000 };
  }

  async signPut(key: string, bytes: number, contentType: string): Promise<SignedUrl> {
    const signedAt = this.now();
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentLength: bytes, ContentType: contentType });
    const url = await getSignedUrl(this.s3, command, { expiresIn: this.urlTtlSeconds, signableHeaders: new Set(['content-length', 'content-type']) });
    return { url, expiresAt: signedAt + this.urlTtlSeconds * 1000 };
  }
}

/**
 * The store for `composeDeps`' `objectStore` option: an S3 client
 * configured by the SDK's own environment (region, credentials, and
 * `AWS_ENDPOINT_URL_S3` locally).
 */
export function s3ObjectStore(bucket: string, urlTtlSeconds: number, instrumentClient: InstrumentClient = uninstrumented): ObjectStore {
  return new S3ObjectStore(instrumentClient(new S3Client({})), bucket, urlTtlSeconds);
}
