import { DYNAMODB_LIMITS } from '../../functions/core/aws-limits';
import { MAX_IDENTITY_CLAIM_LENGTH } from '../../functions/core/auth/token-claims';
import { idempotencyRecordKey, joinKeyParts, tenantKey, tenantUserKey } from '../../functions/core/identity-key';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../../functions/core/protocol/envelope';

/** Parts that look like separators, escapes or nothing at all. */
const TRICKY = ['', ' ', '#', '##', '%', '%23', '%25', '%2523', ':', '::', 'a', 'a#', '#a', 'a#b', 'a%b', 'a:b', 't', 't#a', 'b', '%#', '#%', '\u00e9', '\u{1F600}'];

/** Reads a key back into its parts: if this always recovers the parts, no two part lists share a key. */
function splitKey(key: string): string[] {
  return key.split('#').map((part) => part.replace(/%23/g, '#').replace(/%25/g, '%'));
}

/** A small deterministic generator, so a failure names a reproducible case. */
function* randomParts(seed: number, count: number): Generator<string> {
  const alphabet = ['#', '%', '2', '3', '5', ':', 'a', ''];
  let state = seed;
  for (let i = 0; i < count; i++) {
    let part = '';
    const length = i % 6;
    for (let j = 0; j < length; j++) {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      part += alphabet[state % alphabet.length];
    }
    yield part;
  }
}

describe('identity keys', () => {
  it('keeps tenant "t" with user "a#b" apart from tenant "t#a" with user "b"', () => {
    expect(tenantUserKey('t', 'a#b')).not.toBe(tenantUserKey('t#a', 'b'));
  });

  it('maps no two distinct (tenant, user) pairs to one key, separators, escapes, colons and empty parts included', () => {
    const seen = new Map<string, [string, string]>();
    for (const tenant of TRICKY) {
      for (const user of TRICKY) {
        const key = tenantUserKey(tenant, user);
        expect({ key, pair: seen.get(key) ?? [tenant, user] }).toEqual({ key, pair: [tenant, user] });
        seen.set(key, [tenant, user]);
      }
    }
    expect(seen.size).toBe(TRICKY.length ** 2);
  });

  it('splits every key back into exactly the parts it was made of', () => {
    const parts = [...TRICKY, ...randomParts(7, 400)];
    for (let i = 0; i < parts.length; i++) {
      const tenant = parts[i]!;
      const user = parts[(i * 31 + 5) % parts.length]!;
      expect(splitKey(tenantUserKey(tenant, user))).toEqual([tenant, user]);
    }
  });

  it('never gives a tenant key that equals a tenant-and-user key', () => {
    const tenantKeys = new Set(TRICKY.map(tenantKey));
    for (const tenant of TRICKY) for (const user of TRICKY) expect(tenantKeys.has(tenantUserKey(tenant, user))).toBe(false);
  });

  it('keeps the keys of ids without "#" or "%" as they were, so ordinary identities need no migration', () => {
    expect(tenantUserKey('acme', 'alice')).toBe('acme#alice');
    expect(tenantUserKey('acme', 'auth0|5f:1')).toBe('acme#auth0|5f:1');
    expect(tenantKey('acme')).toBe('acme');
  });

  it('tells lists of different lengths apart', () => {
    expect(joinKeyParts('a', '')).not.toBe(joinKeyParts('a'));
    expect(joinKeyParts('', '')).not.toBe(joinKeyParts(''));
    expect(joinKeyParts('a#b')).not.toBe(joinKeyParts('a', 'b'));
  });
});

describe('identity keys within DynamoDB', () => {
  it('fit a partition key for the longest ids a token may carry, whatever their characters', () => {
    // `%` and `#` grow threefold when escaped; U+FFFF is three bytes of UTF-8 in one code unit.
    for (const char of ['%', '#', '\uffff', '\u{1F600}']) {
      const id = char.repeat(Math.floor(MAX_IDENTITY_CLAIM_LENGTH / char.length));
      const bucket = `user#${tenantUserKey(id, id)}#${Number.MAX_SAFE_INTEGER}`;
      expect(Buffer.byteLength(bucket, 'utf8')).toBeLessThanOrEqual(DYNAMODB_LIMITS.maxPartitionKeyBytes);
    }
  });

  it('fit a partition key for the longest idempotency key of the longest identity', () => {
    for (const char of ['%', '#', '\uffff', '\u{1F600}']) {
      const id = char.repeat(Math.floor(MAX_IDENTITY_CLAIM_LENGTH / char.length));
      const key = char.repeat(Math.floor(MAX_IDEMPOTENCY_KEY_LENGTH / char.length));
      expect(Buffer.byteLength(idempotencyRecordKey(id, id, key), 'utf8')).toBeLessThanOrEqual(DYNAMODB_LIMITS.maxPartitionKeyBytes);
    }
  });

  it('scope an idempotency key to its tenant and user', () => {
    expect(idempotencyRecordKey('acme', 'alice', 'k')).toBe('acme#alice#k');
    expect(idempotencyRecordKey('acme', 'alice#k', 'x')).not.toBe(idempotencyRecordKey('acme', 'alice', 'k#x'));
  });
});
