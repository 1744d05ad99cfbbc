/**
 * The token key's reader on AWS: Powertools Parameters' SSM provider, which
 * decrypts the SecureString and caches it for the refresh interval. Only
 * the authorizer passes this to the composition root (`tokenKeys`), so the other
 * bundles leave the SSM client out.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { uninstrumented, type InstrumentClient } from '../observability';
import { StoredTokenKeys } from './stored-token-keys';

/**
 * Keys read from the SecureString `parameterName`, re-read at most every
 * `refreshSeconds`.
 *
 * @example
 * const keys = ssmTokenKeys('/streamer-prod/token-key', 300);
 * await keys.keys(); // { current, previous? }
 */
export function ssmTokenKeys(parameterName: string, refreshSeconds: number, instrumentClient: InstrumentClient = uninstrumented): StoredTokenKeys {
  const provider = new SSMProvider({ awsSdkV3Client: instrumentClient(new SSMClient({})) });
  return new StoredTokenKeys(async () => {
    const value = await provider.get(parameterName, { decrypt: true, maxAge: refreshSeconds });
    return typeof value === 'string' ? value : undefined;
  }, parameterName);
}
