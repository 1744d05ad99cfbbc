/**
 * The results bucket for in-process lifecycle tests (the core harness runs
 * the core without the local runtime, hence without its S3): objects in a
 * map, "URLs" that name the key and their expiry.
 */
import type { ObjectStore, SignedUrl } from '../../functions/core/stores/object-store';

export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, { readonly body: Uint8Array; readonly contentType: string }>();
  signedGets = 0;

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    this.objects.set(key, { body, contentType });
  }

  async read(key: string, maxBytes: number): Promise<Uint8Array | undefined | 'too-large'> {
    const object = this.objects.get(key);
    if (!object) return undefined;
    return object.body.length > maxBytes ? 'too-large' : object.body;
  }

  async signGet(key: string): Promise<SignedUrl> {
    this.signedGets++;
    return { url: `memory://GET/${key}?n=${this.signedGets}`, expiresAt: Date.now() + 900_000 };
  }

  async signPut(key: string, bytes: number): Promise<SignedUrl> {
    return { url: `memory://PUT/${key}?bytes=${bytes}`, expiresAt: Date.now() + 900_000 };
  }
}
