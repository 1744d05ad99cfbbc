/** Who is calling: taken from a verified JWT at `$connect` and stored with the connection. */
export interface Identity {
  /** The JWT's `sub`. */
  readonly userId: string;
  /** The JWT's `tenant_id`. */
  readonly tenantId: string;
  /** The JWT's optional `permissions` claim. */
  readonly permissions: readonly string[];
}

/** True when `identity` owns a record created by `owner` (same user in the same tenant). */
export function sameOwner(identity: Identity, owner: { readonly userId: string; readonly tenantId: string }): boolean {
  return identity.userId === owner.userId && identity.tenantId === owner.tenantId;
}
