/**
 * IAM for the local runtime: every function gets its own credentials (as a
 * Lambda execution role's session), every emulated AWS API identifies the
 * caller from its SigV4 signature and authorizes the action and resource
 * ARN against that function's role policies from the manifest, exactly as
 * IAM would. A denied call is answered as AWS answers it and logged loudly;
 * every allowed call is counted against the statement that allowed it, so
 * `npm run iam-report` can list grants nothing used.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  accessDeniedResponse,
  assumedRoleArn,
  authenticationFailureResponse,
  type AwsErrorResponse,
  type DenyingService,
} from './iam/aws-denials';
import { type AuthorizationDecision, evaluatePolicies, type NamedPolicyDocument, type PolicyDocument, validatePolicyDocument } from './iam/policy-evaluator';
import { type SignedHttpRequest, verifySigV4 } from './iam/sigv4';
import type { LocalDeployment } from './deployment';
import type { Logger } from './log';

export interface FunctionPrincipal {
  readonly functionName: string;
  readonly roleName: string;
  /** `arn:aws:sts::<acct>:assumed-role/<role>/<function>`: who AWS says is calling. */
  readonly sessionArn: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly policies: readonly NamedPolicyDocument[];
}

/** One allowed call, as the usage report reads it. */
export interface GrantUse {
  readonly functionName: string;
  readonly policyName: string;
  readonly statementIndex: number;
  readonly sid?: string;
  readonly action: string;
  readonly resource: string;
}

export type Authentication =
  | { readonly ok: true; readonly principal: FunctionPrincipal }
  | { readonly ok: false; readonly response: AwsErrorResponse };

/** Access key ids of temporary (session) credentials start with ASIA, as Lambda's do. */
function accessKeyIdFor(functionName: string): string {
  const digest = createHash('sha256').update(functionName).digest('hex').toUpperCase().replace(/[^A-Z0-9]/g, '');
  return `ASIA${digest.slice(0, 16)}`;
}

export class LocalIam {
  private readonly byAccessKey = new Map<string, FunctionPrincipal>();
  private readonly byFunction = new Map<string, FunctionPrincipal>();
  /** Statement × action × resource already recorded: each goes to the usage file once. */
  private readonly recorded = new Set<string>();

  constructor(
    deployment: LocalDeployment,
    private readonly log: Logger,
    /** Appends each first use of a grant here (JSON lines), for `npm run iam-report`. */
    private readonly usageFile?: string,
  ) {
    for (const fn of deployment.functions) {
      const policies = fn.role.policies.map((policy) => ({ policyName: policy.name, document: policy.document as PolicyDocument }));
      // A policy AWS would refuse, or one this evaluator cannot judge, fails start-up rather than a call.
      for (const policy of policies) validatePolicyDocument(policy);
      const principal: FunctionPrincipal = {
        functionName: fn.name,
        roleName: fn.role.name,
        sessionArn: assumedRoleArn(deployment.accountId, fn.role.name, fn.name),
        accessKeyId: accessKeyIdFor(fn.name),
        secretAccessKey: randomBytes(30).toString('base64'),
        sessionToken: randomBytes(48).toString('base64'),
        policies,
      };
      this.byAccessKey.set(principal.accessKeyId, principal);
      this.byFunction.set(fn.name, principal);
    }
    if (usageFile) mkdirSync(dirname(usageFile), { recursive: true });
  }

  /** The credentials a function's container signs with (Lambda sets the same three variables). */
  credentialsFor(functionName: string): Record<'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY' | 'AWS_SESSION_TOKEN', string> {
    const principal = this.byFunction.get(functionName);
    if (!principal) throw new Error(`no role for function ${functionName}`);
    return {
      AWS_ACCESS_KEY_ID: principal.accessKeyId,
      AWS_SECRET_ACCESS_KEY: principal.secretAccessKey,
      AWS_SESSION_TOKEN: principal.sessionToken,
    };
  }

  /** The function whose credentials these are (a presigned URL names only the access key id). */
  principalByAccessKey(accessKeyId: string): FunctionPrincipal | undefined {
    return this.byAccessKey.get(accessKeyId);
  }

  /** Who signed the request; an unsigned, unknown or badly signed request gets AWS's refusal. */
  async authenticate(service: DenyingService, request: SignedHttpRequest): Promise<Authentication> {
    const verified = await verifySigV4(request, (accessKeyId) => this.byAccessKey.get(accessKeyId));
    if (!verified.ok) {
      this.log.warn(`${service}: refused an unauthenticated ${request.method} ${request.rawPath.split('?')[0]} (${verified.reason}: ${verified.message})`);
      return { ok: false, response: authenticationFailureResponse(service, verified) };
    }
    return { ok: true, principal: this.byAccessKey.get(verified.accessKeyId)! };
  }

  /**
   * Evaluates one action on one resource for the caller: `undefined` when
   * allowed, else the response AWS would send.
   */
  authorize(service: DenyingService, principal: FunctionPrincipal, action: string, resource: string): AwsErrorResponse | undefined {
    const decision = this.decide(principal, action, resource);
    if (decision === 'Allow') return undefined;
    return accessDeniedResponse(service, { principalArn: principal.sessionArn, action, resource, decision });
  }

  /**
   * Authenticates an incoming call and authorizes one action on one
   * resource for its signer: `undefined` when it may proceed, else AWS's answer.
   */
  async check(service: DenyingService, request: SignedHttpRequest, action: string, resource: string): Promise<AwsErrorResponse | undefined> {
    const authentication = await this.authenticate(service, request);
    if (!authentication.ok) return authentication.response;
    return this.authorize(service, authentication.principal, action, resource);
  }

  /**
   * Whether a function's role allows an action the runtime performs on its
   * behalf (Lambda's stream poller, a mapping's failure destination); a denial
   * is logged as loudly as a function's own.
   */
  allows(functionName: string, action: string, resource: string): boolean {
    const principal = this.byFunction.get(functionName);
    if (!principal) throw new Error(`no role for function ${functionName}`);
    return this.decide(principal, action, resource) === 'Allow';
  }

  /** Evaluates the role's policies; counts an allowed use, logs a denial loudly. */
  private decide(principal: FunctionPrincipal, action: string, resource: string): AuthorizationDecision['decision'] {
    const { decision, matchedStatement } = evaluatePolicies(principal.policies, { action, resource });
    if (decision === 'Allow') {
      this.recordUse(principal, action, resource, matchedStatement!);
    } else {
      this.log.error(
        `ACCESS DENIED: ${principal.functionName} (role ${principal.roleName}) may not ${action} on ${resource} ` +
          `(${decision === 'ExplicitDeny' ? 'an explicit Deny' : 'no statement allows it'}): ` +
          'AWS would refuse this call too; declare the capability in functions/core/function-declarations.ts',
      );
    }
    return decision;
  }

  private recordUse(principal: FunctionPrincipal, action: string, resource: string, matched: { policyName?: string; sid?: string; index: number }): void {
    const use: GrantUse = {
      functionName: principal.functionName,
      policyName: matched.policyName ?? '',
      statementIndex: matched.index,
      ...(matched.sid !== undefined && { sid: matched.sid }),
      action,
      resource,
    };
    const key = `${use.functionName}\t${use.policyName}\t${use.statementIndex}\t${action}\t${resource}`;
    if (this.recorded.has(key)) return;
    this.recorded.add(key);
    if (this.usageFile) appendFileSync(this.usageFile, `${JSON.stringify(use)}\n`);
  }
}

/** Writes an AWS error answer (from `aws-denials.ts`). */
export function sendAwsResponse(response: import('node:http').ServerResponse, answer: AwsErrorResponse): void {
  response.writeHead(answer.status, { ...answer.headers, 'Content-Length': Buffer.byteLength(answer.body) });
  response.end(answer.body);
}
