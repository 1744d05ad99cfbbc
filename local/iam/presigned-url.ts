/**
 * Verifies SigV4 query-string authentication (presigned URLs), as S3 does:
 * the `X-Amz-*` parameters name the signer, the scope, the signing time, the
 * lifetime and the signed headers; the signature is recomputed from the
 * request as received and compared in constant time. A URL past
 * `X-Amz-Date + X-Amz-Expires` is refused as expired, and so is one whose
 * lifetime is over S3's seven days.
 *
 * The canonical request follows the SigV4 specification for S3: the path
 * as received (S3 does not escape it a second time), every query parameter
 * but `X-Amz-Signature` sorted and encoded, the signed headers, and
 * `UNSIGNED-PAYLOAD` as the payload hash (presigned URLs never sign a body).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SecretLookup, SigV4FailureReason } from './sigv4';

/** S3 refuses a presigned URL whose `X-Amz-Expires` is over 7 days (604,800 s). */
export const MAX_PRESIGNED_EXPIRY_SECONDS = 604_800;

export interface PresignedRequest {
  readonly method: string;
  /** Path and query exactly as received (`request.url`). */
  readonly rawPath: string;
  readonly headers: IncomingHttpHeaders;
}

export type PresignedVerification =
  | { readonly ok: true; readonly accessKeyId: string; readonly expiresAt: Date }
  | { readonly ok: false; readonly reason: SigV4FailureReason; readonly message: string };

/** True when the request carries query-string authentication (`X-Amz-Signature`). */
export function isPresigned(rawPath: string): boolean {
  const query = rawPath.indexOf('?');
  return query !== -1 && /(^|&)X-Amz-Signature=/.test(rawPath.slice(query + 1));
}

/**
 * @example
 * const verified = verifyPresignedUrl({ method: req.method, rawPath: req.url, headers: req.headers }, (id) => keys.get(id));
 * if (!verified.ok) refuse(verified.reason, verified.message);
 */
export function verifyPresignedUrl(request: PresignedRequest, lookupSecret: SecretLookup, now: Date = new Date()): PresignedVerification {
  const queryStart = request.rawPath.indexOf('?');
  const path = queryStart === -1 ? request.rawPath : request.rawPath.slice(0, queryStart);
  const pairs = parsePairs(queryStart === -1 ? '' : request.rawPath.slice(queryStart + 1));
  const param = (name: string): string | undefined => pairs.find(([key]) => key === name)?.[1];

  if (param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return failure('malformed', 'Only AWS4-HMAC-SHA256 query-string authentication is supported');
  const credential = param('X-Amz-Credential') ?? '';
  const amzDate = param('X-Amz-Date') ?? '';
  const expiresText = param('X-Amz-Expires') ?? '';
  const signedHeadersText = param('X-Amz-SignedHeaders') ?? '';
  const signature = param('X-Amz-Signature') ?? '';
  const [accessKeyId, scopeDate, region, service, terminator, ...extra] = credential.split('/');
  if (!accessKeyId || !scopeDate || !region || !service || terminator !== 'aws4_request' || extra.length > 0) {
    return failure('malformed', `Error parsing the X-Amz-Credential parameter; the Credential is mal-formed: ${credential}`);
  }
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate || amzDate.slice(0, 8) !== scopeDate) return failure('malformed', 'X-Amz-Date must be yyyyMMddTHHmmssZ and match the credential scope');
  if (!/^\d{1,7}$/.test(expiresText)) return failure('malformed', 'X-Amz-Expires must be a number of seconds');
  const expiresSeconds = Number(expiresText);
  if (expiresSeconds < 1 || expiresSeconds > MAX_PRESIGNED_EXPIRY_SECONDS) {
    return failure('malformed', `X-Amz-Expires must be between 1 and ${MAX_PRESIGNED_EXPIRY_SECONDS} seconds`);
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) return failure('malformed', 'X-Amz-Signature must be 64 lowercase hexadecimal characters');
  const signedHeaders = signedHeadersText.split(';');
  if (!signedHeaders.includes('host')) return failure('malformed', "'host' must be a signed header");

  const expiresAt = new Date(signingDate.getTime() + expiresSeconds * 1000);
  if (now.getTime() > expiresAt.getTime()) return failure('expired', 'Request has expired');
  // A URL signed in the future (beyond clock skew) is not valid yet.
  if (signingDate.getTime() - now.getTime() > 15 * 60 * 1000) return failure('expired', 'Request is not yet valid');

  const secret = lookupSecret(accessKeyId);
  if (!secret) return failure('unknown-key', 'The AWS Access Key Id you provided does not exist in our records.');
  const token = param('X-Amz-Security-Token');
  if (!sameText(token, secret.sessionToken)) return failure('bad-token', 'The provided token is malformed or otherwise invalid.');

  const canonicalQuery = pairs
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [encode(key), encode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headerValue(request.headers, name)}\n`).join('');
  const canonicalRequest = [request.method.toUpperCase(), path, canonicalQuery, canonicalHeaders, signedHeadersText, 'UNSIGNED-PAYLOAD'].join('\n');
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${secret.secretAccessKey}`, scopeDate);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, stringToSign);
  const sent = Buffer.from(signature, 'hex');
  if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
    return failure('bad-signature', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return { ok: true, accessKeyId, expiresAt };
}

/** Keys and values decoded (`+` is a literal plus in SigV4, not a space). */
function parsePairs(rawQuery: string): Array<readonly [string, string]> {
  return rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const separator = pair.indexOf('=');
      return [safeDecode(separator === -1 ? pair : pair.slice(0, separator)), separator === -1 ? '' : safeDecode(pair.slice(separator + 1))] as const;
    });
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** SigV4's URI encoding: everything but unreserved characters, as `%XX` in upper case. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text.trim().replace(/\s+/g, ' ');
}

function parseAmzDate(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '') === text ? date : undefined;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Both absent, or both present and equal (compared in constant time). */
function sameText(sent: string | undefined, expected: string | undefined): boolean {
  if (sent === undefined || expected === undefined) return sent === expected;
  return timingSafeEqual(createHash('sha256').update(sent).digest(), createHash('sha256').update(expected).digest());
}

function failure(reason: SigV4FailureReason, message: string): PresignedVerification {
  return { ok: false, reason, message };
}
