/**
 * API Gateway's Lambda REQUEST authorizer on `$connect`, emulated: what it
 * does before invoking the function (identity sources), and how it judges
 * the answer, as the API Gateway developer guide describes it:
 *
 * - an identity source (`route.request.header.X`, `route.request.querystring.X`)
 *   missing or empty: 401 without invoking the function;
 * - the function fails with the message `Unauthorized`: 401;
 * - any other failure, or an answer without `principalId` and a policy
 *   document, or a `context` with a value that is not a string, number,
 *   boolean or null (objects and arrays are refused): 500, as API Gateway's
 *   `AuthorizerConfigurationException`;
 * - a policy that does not allow `execute-api:Invoke` on the method ARN (an
 *   explicit Deny, or no Allow): 403;
 * - else the handshake goes on, and `{ ...context, principalId }` becomes
 *   `requestContext.authorizer` of every event of the connection, with
 *   numbers and booleans as strings (API Gateway stringifies them).
 *
 * The policy is judged as IAM judges one (`iam/policy-evaluator.ts`: Deny
 * wins, `*` and `?` wildcards in actions and ARNs).
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import type { InvocationOutcome } from './lambda-containers';
import { evaluatePolicies, type PolicyDocument } from './iam/policy-evaluator';

/** What the authorizer leaves in `requestContext.authorizer`: the context's values (stringified) and `principalId`. */
export type AuthorizerContextValues = Readonly<Record<string, string | null>>;

export type AuthorizerDecision =
  | { readonly allowed: true; readonly context: AuthorizerContextValues }
  | {
      readonly allowed: false;
      readonly statusCode: 401 | 403 | 500;
      /** The handshake's response body, as API Gateway words it. */
      readonly body: string;
      /** Why, for the runtime's log (never sent). */
      readonly reason: string;
    };

/** The error message that makes API Gateway answer 401 instead of 500. */
export const UNAUTHORIZED_ERROR_MESSAGE = 'Unauthorized';

const refused = (statusCode: 401 | 403 | 500, message: string, reason: string): AuthorizerDecision => ({
  allowed: false,
  statusCode,
  body: JSON.stringify({ message }),
  reason,
});

const unauthorized = (reason: string): AuthorizerDecision => refused(401, 'Unauthorized', reason);
const forbidden = (reason: string): AuthorizerDecision => refused(403, 'Forbidden', reason);
const misconfigured = (reason: string): AuthorizerDecision => refused(500, 'Internal server error', reason);

/** The request's values an identity source may name. */
export interface HandshakeParameters {
  readonly headers: Readonly<Record<string, string>>;
  readonly queryStringParameters?: Readonly<Record<string, string>>;
}

/**
 * The 401 API Gateway answers, without invoking the authorizer, when the
 * request lacks one of its identity sources; `undefined` when all are there.
 */
export function refuseWithoutIdentitySources(sources: readonly string[], request: HandshakeParameters): AuthorizerDecision | undefined {
  const missing = missingIdentitySource(sources, request);
  return missing === undefined ? undefined : unauthorized(`the request has no ${missing} (an identity source of the authorizer)`);
}

/**
 * The first identity source the request lacks (missing or empty), or
 * `undefined` when all are there. Headers match case-insensitively, query
 * parameters exactly. An expression this emulation does not know (stage
 * variables, context) counts as present.
 */
function missingIdentitySource(sources: readonly string[], request: HandshakeParameters): string | undefined {
  for (const source of sources) {
    const header = /^route\.request\.header\.(.+)$/.exec(source)?.[1];
    const query = /^route\.request\.querystring\.(.+)$/.exec(source)?.[1];
    let value: string | undefined;
    if (header !== undefined) {
      const name = Object.keys(request.headers).find((candidate) => candidate.toLowerCase() === header.toLowerCase());
      value = name === undefined ? undefined : request.headers[name];
    } else if (query !== undefined) {
      value = request.queryStringParameters?.[query];
    } else {
      continue;
    }
    if (value === undefined || value.trim() === '') return source;
  }
  return undefined;
}

/** Judges what the authorizer function returned for the handshake of `methodArn`. */
export function judgeAuthorizerAnswer(outcome: InvocationOutcome, methodArn: string): AuthorizerDecision {
  if (!outcome.ok) {
    if (outcome.error.errorMessage === UNAUTHORIZED_ERROR_MESSAGE) return unauthorized('the authorizer answered Unauthorized');
    return misconfigured(`the authorizer failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
  }
  const answer = outcome.result as Partial<APIGatewayAuthorizerResult> | null | undefined;
  if (typeof answer !== 'object' || answer === null) return misconfigured('the authorizer returned no object');
  if (typeof answer.principalId !== 'string') return misconfigured('the authorizer returned no principalId');
  const document = answer.policyDocument as PolicyDocument | undefined;
  if (typeof document !== 'object' || document === null || document.Statement === undefined) {
    return misconfigured('the authorizer returned no policyDocument with a Statement');
  }
  const context = contextValues(answer.context);
  if (typeof context === 'string') return misconfigured(context);
  let decision;
  try {
    decision = evaluatePolicies([{ policyName: 'authorizer', document }], { action: 'execute-api:Invoke', resource: methodArn }).decision;
  } catch (error) {
    return misconfigured(`the authorizer's policy is malformed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (decision === 'ExplicitDeny') return forbidden(`the authorizer's policy denies execute-api:Invoke on ${methodArn}`);
  if (decision !== 'Allow') return forbidden(`the authorizer's policy does not allow execute-api:Invoke on ${methodArn}`);
  return { allowed: true, context: { ...context, principalId: answer.principalId } };
}

/** The context as later events carry it, or why API Gateway would refuse it. */
function contextValues(context: unknown): Record<string, string | null> | string {
  if (context === undefined || context === null) return {};
  if (typeof context !== 'object' || Array.isArray(context)) return 'the authorizer returned a context that is not an object';
  const values: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(context)) {
    if (value === null || typeof value === 'string') values[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') values[key] = String(value);
    else if (value !== undefined) return `the authorizer's context value "${key}" is not a string, number or boolean (API Gateway refuses objects and arrays)`;
  }
  return values;
}
