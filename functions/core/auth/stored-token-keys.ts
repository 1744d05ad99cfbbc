/**
 * The HS256 keys, read from the secret store (an SSM SecureString
 * parameter): fetched on the first handshake, cached and re-read at most every
 * `tokenKeyRefreshSeconds` by Powertools Parameters (the reader), parsed
 * again only when the stored text changed.
 */
import { parseTokenKeySet, TokenKeySetError, type TokenKeySet } from './token-key-set';

/** Reads the parameter's decrypted text, from a cache no older than the refresh interval. */
export type SecretParameterReader = () => Promise<string | undefined>;

export class StoredTokenKeys {
  private last?: { readonly raw: string; readonly keys: TokenKeySet };

  constructor(
    private readonly read: SecretParameterReader,
    /** The parameter's name, for errors. */
    private readonly name: string,
  ) {}

  /**
   * The keys as the store holds them now (within the refresh interval). When
   * a refresh fails, the keys read last keep verifying rather than refusing
   * every client while the store is unreachable.
   */
  async keys(): Promise<TokenKeySet> {
    let raw: string | undefined;
    try {
      raw = await this.read();
    } catch (error) {
      if (this.last !== undefined) return this.last.keys;
      throw error;
    }
    if (raw === undefined) throw new TokenKeySetError(`the token key parameter ${this.name} does not exist`);
    if (this.last?.raw !== raw) this.last = { raw, keys: parseTokenKeySet(raw, `the token key parameter ${this.name}`) };
    return this.last.keys;
  }
}
