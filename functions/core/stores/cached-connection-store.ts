import type { ConnectionStore } from './connection-store';
import type { ConnectionRecord } from './records';

/**
 * Remembers connection records for a short while: a connection's identity
 * never changes, so a router instance need not read it for every frame.
 */
export class CachedConnectionStore implements ConnectionStore {
  private readonly cache = new Map<string, { record: ConnectionRecord; until: number }>();

  constructor(
    private readonly inner: ConnectionStore,
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  async put(record: ConnectionRecord): Promise<void> {
    await this.inner.put(record);
  }

  async get(connectionId: string): Promise<ConnectionRecord | undefined> {
    const hit = this.cache.get(connectionId);
    if (hit && hit.until > this.now()) return hit.record;
    const record = await this.inner.get(connectionId);
    if (record) {
      if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(connectionId, { record, until: this.now() + this.ttlMs });
    } else {
      this.cache.delete(connectionId);
    }
    return record;
  }

  async delete(connectionId: string): Promise<void> {
    this.cache.delete(connectionId);
    await this.inner.delete(connectionId);
  }

  listByUser(tenantId: string, userId: string): Promise<string[]> {
    return this.inner.listByUser(tenantId, userId);
  }

  listByTenant(tenantId: string): Promise<string[]> {
    return this.inner.listByTenant(tenantId);
  }
}
