/**
 * The error responses AWS sends when it refuses a call, per service and
 * protocol, as plain data (status, headers, body). The local runtime sends
 * these so an AWS SDK client inside a function throws exactly the error it
 * would throw in AWS: same `name`, same message, same HTTP status.
 *
 * - DynamoDB speaks JSON 1.0: every refusal is a 400 whose body carries
 *   `__type: "com.amazon.coral.service#<Name>"`.
 * - API Gateway's management API (`execute-api`) and Lambda speak restJson:
 *   a 403 whose `x-amzn-ErrorType` header names the error.
 * - Authorization refusals put the text under `Message`, authentication
 *   ones under `message`, as AWS does (the SDK reads either).
 */
import { randomUUID } from 'node:crypto';
import type { AuthorizationDecision } from './policy-evaluator';
import { SIGV4_MESSAGES, type SigV4FailureReason } from './sigv4';

/** The services the local runtime emulates, by their signing name. */
export type DenyingService = 'dynamodb' | 'execute-api' | 'lambda' | 'ssm';

/** An HTTP response, ready to write. */
export interface AwsErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A call the policies refused. */
export interface AccessDenial {
  /** The caller, e.g. `arn:aws:sts::123456789012:assumed-role/worker-role/worker`; see {@link assumedRoleArn}. */
  readonly principalArn: string;
  readonly action: string;
  readonly resource: string;
  readonly decision: Exclude<AuthorizationDecision['decision'], 'Allow'>;
}

/** The error AWS names for each way a signature can fail. */
const AUTHENTICATION_ERRORS: Readonly<Record<SigV4FailureReason, string>> = {
  missing: 'MissingAuthenticationTokenException',
  malformed: 'IncompleteSignatureException',
  'unknown-key': 'UnrecognizedClientException',
  'bad-token': 'UnrecognizedClientException',
  'bad-signature': 'InvalidSignatureException',
  expired: 'InvalidSignatureException',
};

interface ServiceProtocol {
  readonly protocol: 'json1.0' | 'json1.1' | 'restJson';
  readonly status: number;
  /**
   * Whether the denial message says why ("because no identity-based policy
   * allows …"). DynamoDB and Lambda do; API Gateway's management API does not.
   */
  readonly explainsDenial: boolean;
  /** DynamoDB's front door words a missing signature differently from API Gateway's. */
  readonly missingAuthenticationMessage: string;
}

const SERVICES: Readonly<Record<DenyingService, ServiceProtocol>> = {
  dynamodb: { protocol: 'json1.0', status: 400, explainsDenial: true, missingAuthenticationMessage: SIGV4_MESSAGES.missing },
  'execute-api': { protocol: 'restJson', status: 403, explainsDenial: false, missingAuthenticationMessage: 'Missing Authentication Token' },
  lambda: { protocol: 'restJson', status: 403, explainsDenial: true, missingAuthenticationMessage: 'Missing Authentication Token' },
  ssm: { protocol: 'json1.1', status: 400, explainsDenial: true, missingAuthenticationMessage: SIGV4_MESSAGES.missing },
};

/**
 * `arn:aws:sts::<account>:assumed-role/<role>/<session>`: who a Lambda
 * function is, in AWS's messages, while it runs under its execution role.
 */
export function assumedRoleArn(accountId: string, roleName: string, sessionName: string): string {
  return `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
}

/**
 * The text of an `AccessDeniedException`, worded as the service words it.
 *
 * @example
 * ```ts
 * accessDeniedMessage('dynamodb', { principalArn, action: 'dynamodb:UpdateItem', resource: tableArn, decision: 'ImplicitDeny' });
 * // "User: arn:aws:sts::…:assumed-role/worker-role/worker is not authorized to perform: dynamodb:UpdateItem on resource: arn:aws:dynamodb:…:table/Jobs because no identity-based policy allows the dynamodb:UpdateItem action"
 * ```
 */
export function accessDeniedMessage(service: DenyingService, denial: AccessDenial): string {
  const message = `User: ${denial.principalArn} is not authorized to perform: ${denial.action} on resource: ${denial.resource}`;
  if (!SERVICES[service].explainsDenial) return message;
  return denial.decision === 'ExplicitDeny'
    ? `${message} with an explicit deny in an identity-based policy`
    : `${message} because no identity-based policy allows the ${denial.action} action`;
}

/**
 * The response for a call the policies refused (`AccessDeniedException`).
 *
 * @example
 * ```ts
 * const { decision } = evaluatePolicies(policies, { action, resource });
 * if (decision !== 'Allow') {
 *   const { status, headers, body } = accessDeniedResponse('lambda', { principalArn, action, resource, decision });
 *   res.writeHead(status, headers).end(body);
 * }
 * ```
 */
export function accessDeniedResponse(service: DenyingService, denial: AccessDenial): AwsErrorResponse {
  return errorResponse(service, 'AccessDeniedException', { Message: accessDeniedMessage(service, denial) });
}

/**
 * The response for a request whose signature did not verify, from the
 * failure `verifySigV4` returned.
 */
export function authenticationFailureResponse(service: DenyingService, failure: { readonly reason: SigV4FailureReason; readonly message: string }): AwsErrorResponse {
  const message = failure.reason === 'missing' ? SERVICES[service].missingAuthenticationMessage : failure.message;
  return errorResponse(service, AUTHENTICATION_ERRORS[failure.reason], { message });
}

function errorResponse(service: DenyingService, errorName: string, text: { Message: string } | { message: string }): AwsErrorResponse {
  const { protocol, status } = SERVICES[service];
  const requestId = randomUUID();
  if (protocol === 'json1.0' || protocol === 'json1.1') {
    return {
      status,
      headers: { 'Content-Type': `application/x-amz-${protocol === 'json1.0' ? 'json-1.0' : 'json-1.1'}`, 'x-amzn-RequestId': requestId },
      body: JSON.stringify({ __type: `com.amazon.coral.service#${errorName}`, ...text }),
    };
  }
  return {
    status,
    headers: { 'Content-Type': 'application/json', 'x-amzn-ErrorType': errorName, 'x-amzn-RequestId': requestId },
    body: JSON.stringify(text),
  };
}
