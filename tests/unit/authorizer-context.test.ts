/**
 * The identity's trip through API Gateway: what the authorizer returns as
 * its context, and how the router and connect read it back from
 * `requestContext.authorizer` (with `principalId` and any other key beside it).
 */
import { authorizerContextFor, identityFromAuthorizerContext } from '../../functions/core/auth/authorizer-context';

const alice = { userId: 'alice', tenantId: 'acme', permissions: ['reports:read', 'exports:write'] };

describe('the authorizer context', () => {
  it('holds only strings, the permissions as a JSON array, since API Gateway allows no arrays in a context', () => {
    const context = authorizerContextFor(alice);
    expect(context).toEqual({ tenantId: 'acme', userId: 'alice', permissions: '["reports:read","exports:write"]' });
    for (const value of Object.values(context)) expect(typeof value).toBe('string');
  });

  it('reads back as the same identity, whatever else API Gateway adds beside it', () => {
    const authorizer = { ...authorizerContextFor(alice), principalId: 'alice', integrationLatency: 12 };
    expect(identityFromAuthorizerContext(authorizer)).toEqual(alice);
  });

  it('keeps ids with "#", "%", ":" and quotes intact', () => {
    const odd = { userId: 'a#b"c', tenantId: 't%:', permissions: ['x"y'] };
    expect(identityFromAuthorizerContext(authorizerContextFor(odd))).toEqual(odd);
  });

  it.each([
    ['no authorizer at all (a connection opened before the authorizer)', undefined],
    ['null', null],
    ['a context without a tenant', { userId: 'alice', permissions: '[]' }],
    ['permissions that are not JSON', { tenantId: 'acme', userId: 'alice', permissions: 'reports:read' }],
    ['permissions that are not an array of strings', { tenantId: 'acme', userId: 'alice', permissions: '[1]' }],
    ['a blank user id', { tenantId: 'acme', userId: ' ', permissions: '[]' }],
    ['a 10 KB tenant id', { tenantId: 'x'.repeat(10_240), userId: 'alice', permissions: '[]' }],
  ])('reads no identity from %s, so that the caller falls back to the connection record', (_case, authorizer) => {
    expect(identityFromAuthorizerContext(authorizer)).toBeUndefined();
  });
});
