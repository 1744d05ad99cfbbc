/**
 * Keys made of identity parts (a tenant id, a user id), built one way.
 *
 * Tenant and user ids come from the caller's token and may hold any
 * character, the separator included: joined naively as `${tenant}#${user}`,
 * tenant `t` with user `a#b` and tenant `t#a` with user `b` would share one
 * key, hence one rate-limit bucket and one `by_user` index partition, across
 * tenants. Every key that joins identity parts therefore goes through
 * {@link joinKeyParts}, which escapes each part so that the separator only
 * ever separates.
 */

/** Separates the parts of a key; never appears inside an escaped part. */
export const KEY_PART_SEPARATOR = '#';

/**
 * Escapes `%` first (so an escape sequence already in a part cannot be read
 * back as an escape) and then the separator. Every other character stays as
 * it is, so a part without `%` or `#` is its own encoding: keys of ordinary
 * ids are the same as before this encoding existed (see docs/deploy.md,
 * "Upgrading").
 */
function escapeKeyPart(part: string): string {
  return part.replace(/%/g, '%25').replace(/#/g, '%23');
}

/**
 * Joins key parts so that no two different lists of parts give the same key.
 *
 * Each part is percent-escaped (`%` → `%25`, `#` → `%23`) and the escaped
 * parts are joined with `#`. The escaping is reversible and leaves no `#`
 * inside a part, so the key splits back into exactly the parts it was made
 * of. At least one part is required: zero parts and one empty part would
 * otherwise both be `""`.
 *
 * @example
 * joinKeyParts('t', 'a#b'); // 't#a%23b'
 * joinKeyParts('t#a', 'b'); // 't%23a#b'
 */
export function joinKeyParts(first: string, ...rest: readonly string[]): string {
  return [first, ...rest].map(escapeKeyPart).join(KEY_PART_SEPARATOR);
}

/**
 * The key of one user in one tenant (user ids are only unique within a
 * tenant): the `by_user` index value of a connection, the per-user
 * rate-limit bucket, and what a user broadcast looks up.
 *
 * @example
 * tenantUserKey('acme', 'alice'); // 'acme#alice'
 */
export function tenantUserKey(tenantId: string, userId: string): string {
  return joinKeyParts(tenantId, userId);
}

/**
 * The key of a tenant in a store keyed by identity (the per-tenant
 * rate-limit bucket): escaped like every identity key, so a tenant key and a
 * tenant-and-user key never meet.
 */
export function tenantKey(tenantId: string): string {
  return joinKeyParts(tenantId);
}

/**
 * The key of a client's idempotency key in the idempotency-keys table:
 * scoped to the user in the tenant, so the same key sent by another user or
 * tenant is another key. At most 256 + 256 + 128 characters, each at most
 * three bytes once escaped: within DynamoDB's 2048-byte partition key.
 *
 * @example
 * idempotencyRecordKey('acme', 'alice', 'order-42'); // 'acme#alice#order-42'
 */
export function idempotencyRecordKey(tenantId: string, userId: string, key: string): string {
  return joinKeyParts(tenantId, userId, key);
}
