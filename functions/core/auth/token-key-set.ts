/**
 * The HS256 keys the authorizer accepts, as the secret store holds them.
 *
 * The stored value is either a bare secret (one key) or a key-set document:
 *
 * ```json
 * { "current": "<secret>", "previous": "<secret>", "previousAcceptedUntil": "2026-12-03T12:00:00Z" }
 * ```
 *
 * Tokens signed with `current` are accepted; tokens signed with `previous`
 * only until `previousAcceptedUntil`: the overlap window of a rotation, so
 * tokens issued before it keep working while they live, and a leaked old key
 * stops working at a known time. The Pulumi program writes this document
 * (`infra/token-key.ts`); an operator rotating by hand writes the same.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { ConfigurationError } from '../configuration-error';

/** The keys, ready for jsonwebtoken. */
export interface TokenKeySet {
  readonly current: KeyObject;
  /** The key before the last rotation, and until when (epoch ms) its tokens are accepted. */
  readonly previous?: { readonly key: KeyObject; readonly acceptedUntilMs: number };
}

/** The document's fields, as written. */
export interface TokenKeySetDocument {
  readonly current: string;
  readonly previous?: string;
  /** An ISO 8601 instant; required with `previous`. */
  readonly previousAcceptedUntil?: string;
}

/** Thrown when the stored value is neither a secret nor a key-set document; never echoes a key. */
export class TokenKeySetError extends ConfigurationError {}

const secretKey = (secret: string): KeyObject => createSecretKey(Buffer.from(secret, 'utf8'));

/** The document's text (what the secret store holds); a bare secret when there is no previous key. */
export function serializeTokenKeySet(document: TokenKeySetDocument): string {
  if (document.previous === undefined) return document.current;
  return JSON.stringify({ current: document.current, previous: document.previous, previousAcceptedUntil: document.previousAcceptedUntil });
}

/** Parses what the secret store holds; `where` names it in errors (the parameter's name). */
export function parseTokenKeySet(value: string, where: string): TokenKeySet {
  const text = value.trim();
  if (text === '') throw new TokenKeySetError(`${where} is empty: it must hold the HS256 secret or a key-set document`);
  if (!text.startsWith('{')) return { current: secretKey(text) };
  let document: Partial<Record<keyof TokenKeySetDocument, unknown>>;
  try {
    document = JSON.parse(text) as typeof document;
  } catch {
    throw new TokenKeySetError(`${where} starts with "{" but is not JSON: write {"current": …, "previous": …, "previousAcceptedUntil": …} or a bare secret`);
  }
  if (typeof document.current !== 'string' || document.current.trim() === '') {
    throw new TokenKeySetError(`${where}: "current" must be the HS256 secret tokens are signed with now`);
  }
  if (document.previous === undefined) return { current: secretKey(document.current) };
  if (typeof document.previous !== 'string' || document.previous.trim() === '') {
    throw new TokenKeySetError(`${where}: "previous" must be the secret before the last rotation, or absent`);
  }
  const until = typeof document.previousAcceptedUntil === 'string' ? Date.parse(document.previousAcceptedUntil) : Number.NaN;
  if (Number.isNaN(until)) {
    throw new TokenKeySetError(`${where}: "previousAcceptedUntil" must be an ISO 8601 instant (the end of the rotation's overlap window)`);
  }
  return { current: secretKey(document.current), previous: { key: secretKey(document.previous), acceptedUntilMs: until } };
}

/** The keys a token may be signed with at `nowMs`: the current one first. */
export function acceptedKeys(keys: TokenKeySet, nowMs: number): KeyObject[] {
  return keys.previous !== undefined && nowMs < keys.previous.acceptedUntilMs ? [keys.current, keys.previous.key] : [keys.current];
}
