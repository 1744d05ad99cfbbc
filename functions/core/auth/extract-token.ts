/**
 * Finds the JWT in a `$connect` request: `?token=`, `?Authorization=` (with
 * or without `Bearer `), or an `Authorization: Bearer` header. Browsers
 * cannot set WebSocket headers, so the query string always works.
 */
export interface HandshakeCredentials {
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
}

function stripBearer(value: string): string {
  return value.replace(/^\s*Bearer\s+/i, '').trim();
}

function header(headers: HandshakeCredentials['headers'], name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

export function extractToken(request: HandshakeCredentials): string | undefined {
  const query = request.queryStringParameters ?? {};
  const candidates = [query.token, query.Authorization, query.authorization, header(request.headers, 'authorization')];
  for (const candidate of candidates) {
    if (typeof candidate === 'string' && stripBearer(candidate) !== '') return stripBearer(candidate);
  }
  return undefined;
}
