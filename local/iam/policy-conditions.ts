/**
 * The `Condition` element of an IAM policy statement: operators, the
 * `IfExists` suffix, the `ForAllValues:`/`ForAnyValue:` set operators and
 * `Null`, with AWS's rules for keys missing from the request context.
 *
 * Semantics follow "IAM JSON policy elements: Condition operators":
 * - every operator in a block, and every key under one operator, must match (AND);
 * - several policy values for one key match if any does (OR);
 * - a key missing from the context makes a positive operator false and a
 *   negated one (`StringNotEquals`, `ArnNotLike`, …) true, unless `IfExists`
 *   (then the condition is true) or `Null` (which tests presence itself).
 */
import { UnsupportedConditionOperatorError } from './errors';
import { matchesWildcard } from './wildcard-pattern';

/** A policy value as JSON allows it: IAM accepts `true` and `10` as well as `"true"` and `"10"`. */
export type ConditionValue = string | number | boolean;

/** `{ "StringEquals": { "aws:PrincipalTag/team": ["a", "b"] } }` */
export type ConditionBlock = Readonly<Record<string, Readonly<Record<string, ConditionValue | readonly ConditionValue[]>>>>;

/** The request's condition keys (`aws:SourceArn`, `dynamodb:LeadingKeys`, …); key names are case-insensitive. */
export type RequestContext = Readonly<Record<string, string | readonly string[]>>;

type SetOperator = 'ForAllValues' | 'ForAnyValue' | undefined;

interface ParsedOperator {
  readonly set: SetOperator;
  readonly base: string;
  readonly ifExists: boolean;
}

/** Compares one request value with one policy value; negated operators are described by their positive twin. */
type ValueTest = (requestValue: string, policyValue: string) => boolean;

interface OperatorDefinition {
  readonly test: ValueTest;
  readonly negated: boolean;
}

const stringEquals: ValueTest = (request, policy) => request === policy;
const stringEqualsIgnoreCase: ValueTest = (request, policy) => request.toLowerCase() === policy.toLowerCase();
const stringLike: ValueTest = (request, policy) => matchesWildcard(policy, request, { ignoreCase: false });
const boolEquals: ValueTest = (request, policy) => request.toLowerCase() === policy.toLowerCase();

function numeric(compare: (request: number, policy: number) => boolean): ValueTest {
  return (request, policy) => {
    const requestNumber = toNumber(request);
    const policyNumber = toNumber(policy);
    return requestNumber !== undefined && policyNumber !== undefined && compare(requestNumber, policyNumber);
  };
}

function toNumber(text: string): number | undefined {
  const value = text.trim() === '' ? Number.NaN : Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * ArnEquals and ArnLike are the same test in AWS: each of the six
 * colon-separated parts is compared on its own, wildcards allowed, case-sensitive.
 */
const arnLike: ValueTest = (request, policy) => {
  const requestParts = splitArn(request);
  const policyParts = splitArn(policy);
  if (!requestParts || !policyParts) return false;
  return policyParts.every((part, index) => matchesWildcard(part, requestParts[index] ?? '', { ignoreCase: false }));
};

/** `arn:partition:service:region:account:resource`, where the resource part may itself hold colons. */
function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

const OPERATORS: Readonly<Record<string, OperatorDefinition>> = {
  StringEquals: { test: stringEquals, negated: false },
  StringNotEquals: { test: stringEquals, negated: true },
  StringEqualsIgnoreCase: { test: stringEqualsIgnoreCase, negated: false },
  StringNotEqualsIgnoreCase: { test: stringEqualsIgnoreCase, negated: true },
  StringLike: { test: stringLike, negated: false },
  StringNotLike: { test: stringLike, negated: true },
  ArnEquals: { test: arnLike, negated: false },
  ArnLike: { test: arnLike, negated: false },
  ArnNotEquals: { test: arnLike, negated: true },
  ArnNotLike: { test: arnLike, negated: true },
  Bool: { test: boolEquals, negated: false },
  NumericEquals: { test: numeric((a, b) => a === b), negated: false },
  NumericNotEquals: { test: numeric((a, b) => a === b), negated: true },
  NumericLessThan: { test: numeric((a, b) => a < b), negated: false },
  NumericLessThanEquals: { test: numeric((a, b) => a <= b), negated: false },
  NumericGreaterThan: { test: numeric((a, b) => a > b), negated: false },
  NumericGreaterThanEquals: { test: numeric((a, b) => a >= b), negated: false },
};

/**
 * Throws `UnsupportedConditionOperatorError` for any operator this module
 * cannot evaluate. Run when a policy is loaded, so a bad operator fails
 * even in a statement whose action never comes up.
 */
export function assertSupportedConditions(condition: ConditionBlock, statement: string): void {
  for (const operator of Object.keys(condition)) parseOperator(operator, statement);
}

/** Whether every operator of the block matches the request context. */
export function conditionsMatch(condition: ConditionBlock, context: RequestContext, statement: string): boolean {
  const lookup = lowerCaseKeys(context);
  return Object.entries(condition).every(([operator, keys]) => {
    const parsed = parseOperator(operator, statement);
    return Object.entries(keys).every(([key, values]) =>
      keyMatches(parsed, lookup.get(key.toLowerCase()), toStrings(values)),
    );
  });
}

function parseOperator(operator: string, statement: string): ParsedOperator {
  const [, prefix, rest = ''] = /^(?:(ForAllValues|ForAnyValue):)?(.*)$/.exec(operator) ?? [];
  const set = prefix as SetOperator;
  const ifExists = rest.endsWith('IfExists');
  const base = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  // Null tests presence itself, so AWS has no NullIfExists and no set form of it.
  const supported = base === 'Null' ? !ifExists && !set : base in OPERATORS;
  if (!supported) throw new UnsupportedConditionOperatorError(operator, statement);
  return { set, base, ifExists };
}

function keyMatches(operator: ParsedOperator, requestValues: readonly string[] | undefined, policyValues: readonly string[]): boolean {
  const present = requestValues !== undefined && requestValues.length > 0;
  if (operator.base === 'Null') return policyValues.some((value) => (value.toLowerCase() === 'true') === !present);

  const definition = OPERATORS[operator.base] as OperatorDefinition;
  if (!present) {
    if (operator.ifExists) return true;
    // ForAllValues over an empty set is vacuously true; ForAnyValue has nothing to match.
    if (operator.set === 'ForAllValues') return true;
    if (operator.set === 'ForAnyValue') return false;
    return definition.negated;
  }

  // One request value matches when a positive operator finds any equal policy
  // value, or a negated operator finds none.
  const valueMatches = (requestValue: string): boolean =>
    policyValues.some((policyValue) => definition.test(requestValue, policyValue)) !== definition.negated;

  if (operator.set === 'ForAllValues') return requestValues.every(valueMatches);
  if (operator.set === 'ForAnyValue') return requestValues.some(valueMatches);
  // Without a set operator a multivalued key matches a positive operator if
  // any value does, and a negated one only if no value equals a policy value.
  return definition.negated ? requestValues.every(valueMatches) : requestValues.some(valueMatches);
}

function lowerCaseKeys(context: RequestContext): Map<string, readonly string[]> {
  const lookup = new Map<string, readonly string[]>();
  for (const [key, value] of Object.entries(context)) lookup.set(key.toLowerCase(), typeof value === 'string' ? [value] : value);
  return lookup;
}

function toStrings(values: ConditionValue | readonly ConditionValue[]): string[] {
  return (Array.isArray(values) ? values : [values]).map(String);
}
