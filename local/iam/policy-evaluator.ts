/**
 * Identity-based policy evaluation, as AWS IAM does it for a principal
 * acting in its own account: an explicit Deny in any statement wins, else
 * an Allow grants, else the request is implicitly denied.
 *
 * Out of scope (AWS has them, this does not): resource-based policies,
 * permission boundaries, SCPs, session policies and policy variables
 * (`${aws:username}` is compared literally).
 */
import { PolicyDocumentError } from './errors';
import { assertSupportedConditions, conditionsMatch, type ConditionBlock, type RequestContext } from './policy-conditions';
import { matchesWildcard } from './wildcard-pattern';

/** One value or a list, as policy JSON allows for `Action`, `Resource` and friends. */
export type OneOrMany = string | readonly string[];

/** One statement of a policy document. Exactly one of `Action`/`NotAction` and one of `Resource`/`NotResource`. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: OneOrMany;
  readonly NotAction?: OneOrMany;
  readonly Resource?: OneOrMany;
  readonly NotResource?: OneOrMany;
  readonly Condition?: ConditionBlock;
}

/** An IAM policy document, as attached to a role. */
export interface PolicyDocument {
  readonly Version: string;
  readonly Statement: PolicyStatement | readonly PolicyStatement[];
}

/** A policy document with the name it is attached under, reported back in `matchedStatement.policyName`. */
export interface NamedPolicyDocument {
  readonly policyName: string;
  readonly document: PolicyDocument;
}

/** The call being authorized. */
export interface AuthorizationRequest {
  /** `service:Action`, e.g. `dynamodb:UpdateItem`. */
  readonly action: string;
  /** The ARN the action is performed on, e.g. `arn:aws:dynamodb:us-east-1:123456789012:table/Jobs`. */
  readonly resource: string;
  /** Condition keys of the request; absent keys are treated as AWS treats them. */
  readonly context?: RequestContext;
}

/** Which statement decided: the first matching Deny, else the first matching Allow. */
export interface MatchedStatement {
  readonly policyName?: string;
  readonly sid?: string;
  /** Position of the statement in its policy's `Statement` list (0 when it is a single object). */
  readonly index: number;
}

/** The outcome, in AWS's own terms. */
export interface AuthorizationDecision {
  readonly decision: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
  readonly matchedStatement?: MatchedStatement;
}

const POLICY_VERSIONS = new Set(['2012-10-17', '2008-10-17']);

/**
 * Decides whether the policies allow the request.
 *
 * Every document is validated first, so a malformed policy throws
 * (`PolicyDocumentError`, `UnsupportedConditionOperatorError`) whatever the request.
 *
 * @example
 * ```ts
 * const { decision } = evaluatePolicies(
 *   [{ policyName: 'jobs', document: { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'dynamodb:*', Resource: tableArn } } }],
 *   { action: 'dynamodb:UpdateItem', resource: tableArn },
 * );
 * // decision === 'Allow'
 * ```
 */
export function evaluatePolicies(
  policies: readonly (PolicyDocument | NamedPolicyDocument)[],
  request: AuthorizationRequest,
): AuthorizationDecision {
  const statements = policies.flatMap((policy) => listStatements(policy));
  statements.forEach(validateStatement);

  let allow: MatchedStatement | undefined;
  for (const entry of statements) {
    if (!statementApplies(entry, request)) continue;
    if (entry.statement.Effect === 'Deny') return { decision: 'ExplicitDeny', matchedStatement: entry.matched };
    allow ??= entry.matched;
  }
  return allow ? { decision: 'Allow', matchedStatement: allow } : { decision: 'ImplicitDeny' };
}

/**
 * Throws `PolicyDocumentError` (or `UnsupportedConditionOperatorError`) if
 * AWS would reject the document or this evaluator cannot judge it. Useful
 * at start-up, so a bad policy fails before the first call.
 */
export function validatePolicyDocument(policy: PolicyDocument | NamedPolicyDocument): void {
  listStatements(policy).forEach(validateStatement);
}

interface LocatedStatement {
  readonly statement: PolicyStatement;
  readonly matched: MatchedStatement;
  /** How errors name it: `policyName#index (Sid)`. */
  readonly label: string;
}

function listStatements(policy: PolicyDocument | NamedPolicyDocument): LocatedStatement[] {
  const policyName = 'document' in policy ? policy.policyName : undefined;
  const document = 'document' in policy ? policy.document : policy;
  const name = policyName ?? 'policy';
  if (!POLICY_VERSIONS.has(document.Version)) {
    throw new PolicyDocumentError(`Policy ${name} has Version ${String(document.Version)}; expected 2012-10-17`, name);
  }
  const statements: readonly PolicyStatement[] = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  return statements.map((statement, index) => ({
    statement,
    matched: { policyName, sid: statement.Sid, index },
    label: `${name}#${index}${statement.Sid ? ` (${statement.Sid})` : ''}`,
  }));
}

function validateStatement({ statement, label }: LocatedStatement): void {
  const fail = (problem: string): never => {
    throw new PolicyDocumentError(`Statement ${label} ${problem}`, label);
  };
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') fail(`has Effect ${String(statement.Effect)}; expected Allow or Deny`);
  if ((statement.Action === undefined) === (statement.NotAction === undefined)) fail('must have exactly one of Action and NotAction');
  if ((statement.Resource === undefined) === (statement.NotResource === undefined)) fail('must have exactly one of Resource and NotResource');
  for (const action of toList(statement.Action ?? statement.NotAction)) {
    if (action !== '*' && !/^[^:]+:[^:]+$/.test(action)) fail(`has action "${action}"; expected service:Action`);
  }
  if (statement.Condition) assertSupportedConditions(statement.Condition, label);
}

function statementApplies({ statement, label }: LocatedStatement, request: AuthorizationRequest): boolean {
  const actionListed = (patterns: OneOrMany) =>
    toList(patterns).some((pattern) => matchesWildcard(pattern, request.action, { ignoreCase: true }));
  // ARNs are case-sensitive, so resource patterns are too.
  const resourceListed = (patterns: OneOrMany) =>
    toList(patterns).some((pattern) => matchesWildcard(pattern, request.resource, { ignoreCase: false }));

  const actionMatches = statement.Action !== undefined ? actionListed(statement.Action) : !actionListed(statement.NotAction ?? []);
  if (!actionMatches) return false;
  const resourceMatches =
    statement.Resource !== undefined ? resourceListed(statement.Resource) : !resourceListed(statement.NotResource ?? []);
  if (!resourceMatches) return false;
  return statement.Condition ? conditionsMatch(statement.Condition, request.context ?? {}, label) : true;
}

function toList(value: OneOrMany | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}
