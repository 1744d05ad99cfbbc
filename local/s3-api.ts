/**
 * S3, as much of it as Streamer uses, for the buckets of the manifest:
 * PutObject, GetObject, HeadObject and DeleteObject on path-style URLs
 * (`/<bucket>/<key>`, what the AWS SDK uses for an IP endpoint), signed in
 * the `Authorization` header or presigned in the query string. Every request
 * is authenticated (SigV4, the signer's session token, a presigned URL's
 * expiry) and authorized against the signer's role exactly as S3 does: a
 * presigned URL acts with the rights of the function that signed it. The
 * buckets' CORS rules answer browsers, and their lifecycle rules expire
 * objects (`s3-objects.ts`).
 *
 * Not emulated (said at start-up): the bucket policy (its one statement
 * refuses plain HTTP, and the local runtime speaks nothing else), encryption
 * at rest, versioning, multipart uploads, listing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BucketCorsRule, DeployedBucket } from './deployment';
import { BodyTooLargeError, readBody } from './http-responses';
import { authenticationFailureResponse, isPresigned, s3ErrorResponse, type AwsErrorResponse, verifyPresignedUrl } from './iam';
import { type FunctionPrincipal, type LocalIam, sendAwsResponse } from './local-iam';
import { describeError, type Logger } from './log';
import { BucketObjects, type StoredObject } from './s3-objects';

/** S3 takes up to 5 GB in one PUT; the local runtime holds objects in memory, so it stops well before. */
export const LOCAL_MAX_OBJECT_BYTES = 256 * 1024 * 1024;

export interface S3ApiOptions {
  readonly iam: LocalIam;
  readonly buckets: readonly DeployedBucket[];
  readonly host: string;
  /** How often lifecycle expiration runs. */
  readonly lifecycleSweepMs: number;
  readonly log: Logger;
  /** The store (a test passes one with its own clock). */
  readonly objects?: BucketObjects;
}

export interface RunningS3Api {
  /** `http://127.0.0.1:<port>`: what `AWS_ENDPOINT_URL_S3` is set to. */
  readonly endpoint: string;
  readonly objects: BucketObjects;
  stop(): Promise<void>;
}

const ACTIONS: Readonly<Record<string, string>> = { GET: 's3:GetObject', HEAD: 's3:GetObject', PUT: 's3:PutObject', DELETE: 's3:DeleteObject' };

export async function startS3Api(options: S3ApiOptions): Promise<RunningS3Api> {
  const objects = options.objects ?? new BucketObjects(options.buckets);
  const bucketByName = new Map(options.buckets.map((bucket) => [bucket.name, bucket]));

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const rawPath = request.url ?? '/';
    const method = request.method ?? 'GET';
    const path = rawPath.split('?')[0]!;
    const [bucketName = '', ...keyParts] = path.slice(1).split('/');
    const origin = headerText(request, 'origin');
    let bucket: DeployedBucket | undefined;
    let key: string;
    try {
      bucket = bucketByName.get(decodeURIComponent(bucketName));
      key = decodeURIComponent(keyParts.join('/'));
    } catch {
      return sendAwsResponse(response, s3ErrorResponse(400, 'InvalidURI', `Couldn't parse the specified URI: ${path}`));
    }
    const send = (answer: AwsErrorResponse): void => sendAwsResponse(response, withCors(answer, bucket, origin, method));

    if (!bucket) return send(s3ErrorResponse(404, 'NoSuchBucket', 'The specified bucket does not exist', `/${bucketName}`));
    if (method === 'OPTIONS') return preflight(response, bucket, origin, headerText(request, 'access-control-request-method'), headerText(request, 'access-control-request-headers'));
    const action = ACTIONS[method];
    if (!action || key === '') {
      return send(s3ErrorResponse(501, 'NotImplemented', `The local runtime emulates only object GET, HEAD, PUT and DELETE (got ${method} ${path})`));
    }

    let body: Buffer;
    try {
      body = method === 'PUT' ? await readBody(request, LOCAL_MAX_OBJECT_BYTES) : Buffer.alloc(0);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return send(s3ErrorResponse(400, 'EntityTooLarge', `Your proposed upload exceeds the local limit of ${LOCAL_MAX_OBJECT_BYTES} bytes`));
      throw error;
    }
    const principal = await authenticate(options.iam, { method, rawPath, headers: request.headers, body });
    if (!principal.ok) return send(principal.response);
    const resource = `${bucket.arn}/${key}`;
    const refusal = options.iam.authorize('s3', principal.principal, action, resource);
    if (refusal) return send(refusal);

    const cors = corsHeaders(bucket, origin, method);
    switch (method) {
      case 'PUT': {
        const stored = objects.put(bucket.name, key, { body: decodeAwsChunked(request, body), contentType: headerText(request, 'content-type'), metadata: metadataOf(request) });
        response.writeHead(200, { ...cors, ETag: stored.etag, 'Content-Length': 0 });
        response.end();
        return;
      }
      case 'DELETE':
        objects.delete(bucket.name, key);
        response.writeHead(204, cors);
        response.end();
        return;
      default: {
        const stored = objects.get(bucket.name, key);
        if (!stored) {
          // HEAD has no body: the SDK names the error from the status alone (NotFound).
          if (method === 'HEAD') {
            response.writeHead(404, cors);
            response.end();
            return;
          }
          return send(s3ErrorResponse(404, 'NoSuchKey', 'The specified key does not exist.', `/${bucket.name}/${key}`));
        }
        response.writeHead(200, { ...cors, ...objectHeaders(stored) });
        response.end(method === 'HEAD' ? undefined : stored.body);
      }
    }
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.log.error(`S3 ${request.method} ${request.url?.split('?')[0]} failed: ${describeError(error)}`);
      if (!response.headersSent) sendAwsResponse(response, s3ErrorResponse(500, 'InternalError', 'We encountered an internal error. Please try again.'));
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host, () => resolve());
  });
  objects.start(options.lifecycleSweepMs);
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${options.host}:${port}`,
    objects,
    stop: () =>
      new Promise<void>((resolve) => {
        objects.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type S3Authentication = { readonly ok: true; readonly principal: FunctionPrincipal } | { readonly ok: false; readonly response: AwsErrorResponse };

/** Header signatures through `LocalIam`; presigned URLs verified here with the same principals' secrets. */
async function authenticate(iam: LocalIam, request: { method: string; rawPath: string; headers: IncomingMessage['headers']; body: Buffer }): Promise<S3Authentication> {
  if (!isPresigned(request.rawPath)) return iam.authenticate('s3', request);
  const verified = verifyPresignedUrl(request, (accessKeyId) => iam.principalByAccessKey(accessKeyId));
  if (!verified.ok) return { ok: false, response: authenticationFailureResponse('s3', verified) };
  return { ok: true, principal: iam.principalByAccessKey(verified.accessKeyId)! };
}

/**
 * The AWS SDK may send a body as `aws-chunked` (a checksum trailer after
 * the data); S3 stores the decoded bytes.
 */
function decodeAwsChunked(request: IncomingMessage, body: Buffer): Buffer {
  if (!(headerText(request, 'content-encoding') ?? '').split(',').some((coding) => coding.trim() === 'aws-chunked')) return body;
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function metadataOf(request: IncomingMessage): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith('x-amz-meta-') && typeof value === 'string') metadata[name] = value;
  }
  return metadata;
}

function objectHeaders(object: StoredObject): Record<string, string | number> {
  return {
    'Content-Type': object.contentType,
    'Content-Length': object.body.length,
    ETag: object.etag,
    'Last-Modified': object.lastModified.toUTCString(),
    'Accept-Ranges': 'bytes',
    ...object.metadata,
  };
}

function headerText(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

// ------------------------------------------------------------------ CORS, as S3 evaluates it

function originAllowed(rule: BucketCorsRule, origin: string): boolean {
  return rule.allowedOrigins.some((allowed) => allowed === '*' || allowed === origin || (allowed.includes('*') && wildcard(allowed).test(origin)));
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
}

/** The first rule that allows this origin and method (S3 uses the first match). */
function matchingRule(bucket: DeployedBucket | undefined, origin: string | undefined, method: string): BucketCorsRule | undefined {
  if (!bucket || origin === undefined) return undefined;
  return bucket.cors.find((rule) => rule.allowedMethods.includes(method) && originAllowed(rule, origin));
}

function corsHeaders(bucket: DeployedBucket | undefined, origin: string | undefined, method: string): Record<string, string> {
  const rule = matchingRule(bucket, origin, method);
  if (!rule) return {};
  return {
    'Access-Control-Allow-Origin': rule.allowedOrigins.includes('*') ? '*' : origin!,
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
    ...(rule.exposeHeaders.length > 0 && { 'Access-Control-Expose-Headers': rule.exposeHeaders.join(', ') }),
    Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
}

function withCors(answer: AwsErrorResponse, bucket: DeployedBucket | undefined, origin: string | undefined, method: string): AwsErrorResponse {
  // S3 adds CORS headers to its errors too, so a page can read why (an expired URL: 403 AccessDenied).
  return { ...answer, headers: { ...answer.headers, ...corsHeaders(bucket, origin, method) } };
}

function preflight(response: ServerResponse, bucket: DeployedBucket, origin: string | undefined, method: string | undefined, requested: string | undefined): void {
  const headers = (requested ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  const rule =
    method === undefined
      ? undefined
      : bucket.cors.find(
          (candidate) =>
            candidate.allowedMethods.includes(method) &&
            origin !== undefined &&
            originAllowed(candidate, origin) &&
            headers.every((header) => candidate.allowedHeaders.some((allowed) => allowed === '*' || wildcard(allowed).test(header))),
        );
  if (!rule) {
    sendAwsResponse(response, s3ErrorResponse(403, 'AccessForbidden', 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.'));
    return;
  }
  response.writeHead(200, {
    ...corsHeaders(bucket, origin, method!),
    ...(headers.length > 0 && { 'Access-Control-Allow-Headers': headers.join(', ') }),
    ...(rule.maxAgeSeconds !== undefined && { 'Access-Control-Max-Age': String(rule.maxAgeSeconds) }),
    'Content-Length': 0,
  });
  response.end();
}
