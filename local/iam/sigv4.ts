/**
 * Verifies AWS Signature Version 4 on requests the local runtime receives
 * from AWS SDK clients, so a Lambda function that signs with the wrong
 * credentials fails locally as it would in AWS.
 *
 * The signature is recomputed with the SDK's own canonicalisation
 * (`@smithy/signature-v4`: canonical headers, path, query and payload hash)
 * from exactly what arrived: the signed headers only, the path as received
 * (escaped again, as AWS does for every service but S3), and the date,
 * region and service of the credential scope. The derived signing key is
 * cached per credential, date, region and service, as AWS's own signers do:
 * four HMACs that would otherwise run on every call.
 *
 * Header-based signing only; presigned URLs (`X-Amz-Signature` in the query)
 * are reported as `missing`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@smithy/core/checksum';
import { createScope, getCanonicalHeaders, getPayloadHash, prepareRequest, SignatureV4Base } from '@smithy/signature-v4';

/** What the verifier reads from an incoming request. */
export interface SignedHttpRequest {
  readonly method: string;
  /** Path and query exactly as received (`request.url`), still percent-encoded. */
  readonly rawPath: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The secret behind an access key id, and the session token that must accompany it, if any. */
export interface SigningSecret {
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Finds the secret for an access key id; `undefined` when the key is not known. */
export type SecretLookup = (accessKeyId: string) => SigningSecret | undefined;

/** Why a request failed verification; `aws-denials.ts` maps each to the error AWS returns. */
export type SigV4FailureReason = 'missing' | 'malformed' | 'unknown-key' | 'bad-signature' | 'expired' | 'bad-token';

/** The outcome: who signed, for which region and service, or why the request is refused. */
export type SigV4Verification =
  | { readonly ok: true; readonly accessKeyId: string; readonly region: string; readonly service: string }
  | { readonly ok: false; readonly reason: SigV4FailureReason; readonly message: string };

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS refuses a signature more than 15 minutes away from its own clock, in either direction. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const UNSIGNED_PAYLOADS = new Set(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);

/** AWS's wording, so SDK errors read as they would against the real service. */
export const SIGV4_MESSAGES = {
  missing: 'Request is missing Authentication Token',
  invalidToken: 'The security token included in the request is invalid.',
  badSignature:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
} as const;

/**
 * Checks the `Authorization: AWS4-HMAC-SHA256 …` header of a request.
 *
 * @param request - the request as received; read the body fully first.
 * @param lookupSecret - resolves the access key id of the credential scope.
 * @param now - the server's clock, for the 15-minute window.
 *
 * @example
 * ```ts
 * const body = await readBody(req, limit);
 * const result = await verifySigV4({ method: req.method ?? 'GET', rawPath: req.url ?? '/', headers: req.headers, body }, (id) => keys.get(id));
 * if (!result.ok) {
 *   const { status, headers, body } = authenticationFailureResponse('dynamodb', result);
 *   return res.writeHead(status, headers).end(body);
 * }
 * ```
 */
export async function verifySigV4(request: SignedHttpRequest, lookupSecret: SecretLookup, now: Date = new Date()): Promise<SigV4Verification> {
  const authorization = headerValue(request.headers, 'authorization');
  if (authorization === undefined) return failure('missing', SIGV4_MESSAGES.missing);

  const parsed = parseAuthorization(authorization, request.headers);
  if (typeof parsed === 'string') return failure('malformed', parsed);
  const { accessKeyId, region, service, signedHeaders, signature, signingDate, amzDate } = parsed;

  const skew = now.getTime() - signingDate.getTime();
  if (Math.abs(skew) > MAX_CLOCK_SKEW_MS) return failure('expired', expiredMessage(amzDate, now, skew > 0));

  const secret = lookupSecret(accessKeyId);
  if (!secret) return failure('unknown-key', SIGV4_MESSAGES.invalidToken);
  if (!sameToken(headerValue(request.headers, 'x-amz-security-token'), secret.sessionToken)) {
    return failure('bad-token', SIGV4_MESSAGES.invalidToken);
  }

  const declaredPayloadHash = signedHeaders.includes('x-amz-content-sha256') ? headerValue(request.headers, 'x-amz-content-sha256') : undefined;
  if (declaredPayloadHash !== undefined && !UNSIGNED_PAYLOADS.has(declaredPayloadHash)) {
    // The signer trusts this header instead of hashing the body, so a body
    // changed after signing is caught here.
    if (declaredPayloadHash !== createHash('sha256').update(request.body).digest('hex')) return failure('bad-signature', SIGV4_MESSAGES.badSignature);
  }

  const expected = await recomputeSignature(request, { accessKeyId, secret, region, service, signedHeaders, amzDate });
  const expectedBytes = Buffer.from(expected, 'hex');
  const sentBytes = Buffer.from(signature, 'hex');
  // timingSafeEqual throws on different lengths; both are 32 bytes unless the signer's output changed shape.
  if (expectedBytes.length !== sentBytes.length || !timingSafeEqual(expectedBytes, sentBytes)) {
    return failure('bad-signature', SIGV4_MESSAGES.badSignature);
  }
  return { ok: true, accessKeyId, region, service };
}

interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly signingDate: Date;
  readonly amzDate: string;
}

/** The parsed header, or a message in AWS's `IncompleteSignatureException` style saying what is wrong. */
function parseAuthorization(authorization: string, headers: IncomingHttpHeaders): ParsedAuthorization | string {
  const [algorithm = '', ...rest] = authorization.trim().split(/\s+/);
  if (algorithm !== ALGORITHM) return `Unsupported authorization type: ${algorithm}; expected ${ALGORITHM}`;
  const params = new Map(
    rest
      .join(' ')
      .split(',')
      .map((part) => part.trim().split('=', 2) as [string, string | undefined]),
  );
  for (const name of ['Credential', 'SignedHeaders', 'Signature']) {
    if (!params.get(name)) return `Authorization header requires '${name}' parameter.`;
  }

  const scope = (params.get('Credential') ?? '').split('/');
  const [accessKeyId, scopeDate, region, service, terminator] = scope;
  if (scope.length !== 5 || !accessKeyId || !scopeDate || !region || !service || terminator !== 'aws4_request') {
    return `Credential should be scoped to a valid region, service and terminator: ${params.get('Credential')}`;
  }
  const signedHeaders = (params.get('SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes('host')) return "'Host' must be a 'SignedHeader' in the AWS Authorization.";
  const signature = params.get('Signature') ?? '';
  if (!/^[0-9a-f]{64}$/.test(signature)) return 'Signature must be 64 lowercase hexadecimal characters.';

  const amzDate = headerValue(headers, 'x-amz-date');
  if (amzDate === undefined) return "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.";
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) return `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'": ${amzDate}`;
  if (amzDate.slice(0, 8) !== scopeDate) return `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}'`;
  return { accessKeyId, region, service, signedHeaders, signature, signingDate, amzDate };
}

interface SigningInputs {
  readonly accessKeyId: string;
  readonly secret: SigningSecret;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  /** `X-Amz-Date` as sent (`yyyyMMdd'T'HHmmss'Z'`), already checked against the scope's date. */
  readonly amzDate: string;
}

/** The request shape the SDK's signer reads. */
type HttpRequest = Parameters<typeof prepareRequest>[0];

/**
 * The SDK signer's canonical request and string to sign, without its
 * credential handling: the signing key comes from {@link signingKeyFor}.
 */
class CanonicalSigner extends SignatureV4Base {
  constructor(service: string, region: string) {
    // Credentials are never read: the string to sign does not depend on them.
    super({ service, region, credentials: { accessKeyId: '', secretAccessKey: '' }, sha256: Sha256, uriEscapePath: service !== 's3', applyChecksum: false });
  }

  async stringToSign(request: HttpRequest, signedHeaders: ReadonlySet<string>, amzDate: string, scope: string): Promise<string> {
    const prepared = prepareRequest(request);
    // prepareRequest drops the headers a signer generates; the date is one of them, and it was signed.
    prepared.headers['x-amz-date'] = amzDate;
    const payloadHash = await getPayloadHash(prepared, this.sha256);
    const canonicalHeaders = getCanonicalHeaders(prepared, undefined, signedHeaders as Set<string>);
    return this.createStringToSign(amzDate, scope, this.createCanonicalRequest(prepared, canonicalHeaders, payloadHash), ALGORITHM);
  }
}

/** Signers by `service/region`: the few a deployment's clients sign for. */
const signers = new Map<string, CanonicalSigner>();

function signerFor(service: string, region: string): CanonicalSigner {
  const key = `${service}/${region}`;
  let signer = signers.get(key);
  if (!signer) signers.set(key, (signer = new CanonicalSigner(service, region)));
  return signer;
}

/** Derived keys by credential and scope; a key is valid for one day, so the cache is bounded and simply restarts when full. */
const signingKeys = new Map<string, Buffer>();
const MAX_SIGNING_KEYS = 1024;

/** `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`, cached. */
function signingKeyFor(accessKeyId: string, secretAccessKey: string, shortDate: string, region: string, service: string): Buffer {
  const cacheKey = `${accessKeyId}\n${secretAccessKey}\n${shortDate}\n${region}\n${service}`;
  const cached = signingKeys.get(cacheKey);
  if (cached) return cached;
  let key: Buffer = Buffer.from(`AWS4${secretAccessKey}`, 'utf8');
  for (const part of [shortDate, region, service, 'aws4_request']) key = createHmac('sha256', key).update(part, 'utf8').digest();
  if (signingKeys.size >= MAX_SIGNING_KEYS) signingKeys.clear();
  signingKeys.set(cacheKey, key);
  return key;
}

async function recomputeSignature(request: SignedHttpRequest, inputs: SigningInputs): Promise<string> {
  const queryStart = request.rawPath.indexOf('?');
  const path = queryStart === -1 ? request.rawPath : request.rawPath.slice(0, queryStart);
  const query = queryStart === -1 ? {} : parseQuery(request.rawPath.slice(queryStart + 1));
  const headers: Record<string, string> = {};
  for (const name of inputs.signedHeaders) {
    const value = headerValue(request.headers, name);
    if (value !== undefined) headers[name] = value;
  }
  const shortDate = inputs.amzDate.slice(0, 8);
  const scope = createScope(shortDate, inputs.region, inputs.service);
  // A token the client signed is among the signed headers already, like every other header it signed.
  const stringToSign = await signerFor(inputs.service, inputs.region).stringToSign(
    { method: request.method.toUpperCase(), protocol: 'http:', hostname: headers.host ?? '', path, query, headers, body: request.body },
    new Set(inputs.signedHeaders),
    inputs.amzDate,
    scope,
  );
  const key = signingKeyFor(inputs.accessKeyId, inputs.secret.secretAccessKey, shortDate, inputs.region, inputs.service);
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/** Decoded keys and values, as the signer wants them (it re-encodes for the canonical query). */
function parseQuery(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const separator = pair.indexOf('=');
    const key = safeDecode(separator === -1 ? pair : pair.slice(0, separator));
    const value = separator === -1 ? '' : safeDecode(pair.slice(separator + 1));
    const existing = query[key];
    query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return query;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A stray % cannot have been produced by a signer; keeping it makes the signature fail.
    return text;
  }
}

/** `20260101T000000Z` → Date, or `undefined` if it is not that shape. */
function parseAmzDate(amzDate: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls 20261301 over into 2027; only a date that prints back the same is valid.
  return toAmzDate(date) === amzDate ? date : undefined;
}

function toAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function expiredMessage(amzDate: string, now: Date, inThePast: boolean): string {
  const limit = new Date(now.getTime() + (inThePast ? -MAX_CLOCK_SKEW_MS : MAX_CLOCK_SKEW_MS));
  return inThePast
    ? `Signature expired: ${amzDate} is now earlier than ${toAmzDate(limit)} (${toAmzDate(now)} - 15 min.)`
    : `Signature not yet current: ${amzDate} is still later than ${toAmzDate(limit)} (${toAmzDate(now)} + 15 min.)`;
}

/** A token is required exactly when the key has one, and must then be the same, compared in constant time. */
function sameToken(sent: string | undefined, expected: string | undefined): boolean {
  if (sent === undefined || expected === undefined) return sent === expected;
  const a = createHash('sha256').update(sent).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function failure(reason: SigV4FailureReason, message: string): SigV4Verification {
  return { ok: false, reason, message };
}
