/**
 * A request as its owner may see it: only the user (in the tenant) that
 * created it. For anyone else it does not exist (`NOT_FOUND`), so request
 * ids never leak across users or tenants.
 */
import { StreamerError } from '../errors';
import { sameOwner, type Identity } from '../identity';
import type { RequestRecord } from '../stores/records';
import type { StreamerDeps } from './deps';

export async function ownedRequest(deps: StreamerDeps, requestId: string, identity: Identity, consistent = false): Promise<RequestRecord> {
  const request = await deps.requests.get(requestId, consistent);
  if (!request || !sameOwner(identity, { userId: request.user_id, tenantId: request.tenant_id })) {
    throw new StreamerError('NOT_FOUND', `No request ${requestId}`, { details: { requestId } });
  }
  return request;
}
