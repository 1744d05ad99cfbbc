import { PolicyDocumentError, UnsupportedConditionOperatorError } from '../../../local/iam/errors';
import { evaluatePolicies, validatePolicyDocument, type PolicyStatement } from '../../../local/iam/policy-evaluator';
import type { RequestContext } from '../../../local/iam/policy-conditions';

const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table/Jobs';
const INDEX = `${TABLE}/index/ByOwner`;

function policy(...statements: PolicyStatement[]) {
  return { policyName: 'jobs-access', document: { Version: '2012-10-17', Statement: statements } };
}

function decide(statements: PolicyStatement[], action: string, resource = TABLE, context?: RequestContext) {
  return evaluatePolicies([policy(...statements)], { action, resource, context }).decision;
}

describe('policy decisions', () => {
  it('allows an action an Allow statement names on the resource', () => {
    const result = evaluatePolicies([policy({ Sid: 'Write', Effect: 'Allow', Action: 'dynamodb:UpdateItem', Resource: TABLE })], {
      action: 'dynamodb:UpdateItem',
      resource: TABLE,
    });
    expect(result).toEqual({ decision: 'Allow', matchedStatement: { policyName: 'jobs-access', sid: 'Write', index: 0 } });
  });

  it('denies implicitly when no statement matches', () => {
    expect(evaluatePolicies([policy({ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE })], { action: 'dynamodb:UpdateItem', resource: TABLE })).toEqual({
      decision: 'ImplicitDeny',
    });
  });

  it('denies implicitly when there are no policies at all', () => {
    expect(evaluatePolicies([], { action: 'dynamodb:GetItem', resource: TABLE }).decision).toBe('ImplicitDeny');
  });

  it('denies an action an explicit Deny names even when an Allow matches', () => {
    const result = evaluatePolicies(
      [
        policy({ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }),
        { policyName: 'guard', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Sid: 'NoDeletes', Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: TABLE }] } },
      ],
      { action: 'dynamodb:DeleteItem', resource: TABLE },
    );
    expect(result).toEqual({ decision: 'ExplicitDeny', matchedStatement: { policyName: 'guard', sid: 'NoDeletes', index: 1 } });
  });

  it('accepts a bare policy document and a single statement object', () => {
    const result = evaluatePolicies([{ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: '*' } }], {
      action: 'lambda:InvokeFunction',
      resource: 'arn:aws:lambda:us-east-1:123456789012:function:worker',
    });
    expect(result).toEqual({ decision: 'Allow', matchedStatement: { policyName: undefined, sid: undefined, index: 0 } });
  });
});

describe('action matching', () => {
  it('matches actions case-insensitively in both the service prefix and the action name', () => {
    expect(decide([{ Effect: 'Allow', Action: 'DynamoDB:updateitem', Resource: TABLE }], 'dynamodb:UpdateItem')).toBe('Allow');
  });

  it('matches * and ? wildcards in action names', () => {
    const statements: PolicyStatement[] = [{ Effect: 'Allow', Action: ['dynamodb:Get*', 'dynamodb:?uery'], Resource: TABLE }];
    expect(decide(statements, 'dynamodb:GetItem')).toBe('Allow');
    expect(decide(statements, 'dynamodb:Query')).toBe('Allow');
    expect(decide(statements, 'dynamodb:PutItem')).toBe('ImplicitDeny');
  });

  it('does not let a wildcard action cross into another service', () => {
    expect(decide([{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }], 'lambda:InvokeFunction')).toBe('ImplicitDeny');
  });

  it('allows every action except those NotAction lists', () => {
    const statements: PolicyStatement[] = [{ Effect: 'Allow', NotAction: 'dynamodb:Delete*', Resource: TABLE }];
    expect(decide(statements, 'dynamodb:PutItem')).toBe('Allow');
    expect(decide(statements, 'dynamodb:DeleteItem')).toBe('ImplicitDeny');
  });
});

describe('resource matching', () => {
  it('matches resources case-sensitively', () => {
    expect(decide([{ Effect: 'Allow', Action: 'dynamodb:*', Resource: TABLE.replace('Jobs', 'jobs') }], 'dynamodb:GetItem')).toBe('ImplicitDeny');
  });

  it('lets * span slashes so a table pattern covers its indexes', () => {
    expect(decide([{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: `${TABLE}*` }], 'dynamodb:Query', INDEX)).toBe('Allow');
    expect(decide([{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: TABLE }], 'dynamodb:Query', INDEX)).toBe('ImplicitDeny');
  });

  it('lets * span colons in region and account segments', () => {
    expect(decide([{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: 'arn:aws:dynamodb:*:*:table/Jobs' }], 'dynamodb:Query')).toBe('Allow');
  });

  it('matches ? against exactly one character', () => {
    const statements: PolicyStatement[] = [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: 'arn:aws:dynamodb:us-east-?:123456789012:table/Jobs' }];
    expect(decide(statements, 'dynamodb:GetItem')).toBe('Allow');
    expect(decide(statements, 'dynamodb:GetItem', TABLE.replace('us-east-1', 'us-east-12'))).toBe('ImplicitDeny');
  });

  it('treats regular-expression characters in a pattern literally', () => {
    expect(decide([{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/Job.' }], 'dynamodb:GetItem')).toBe('ImplicitDeny');
  });

  it('applies a statement to every resource except those NotResource lists', () => {
    const statements: PolicyStatement[] = [{ Effect: 'Deny', Action: 'dynamodb:*', NotResource: `${TABLE}*` }, { Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }];
    expect(decide(statements, 'dynamodb:GetItem', INDEX)).toBe('Allow');
    expect(decide(statements, 'dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:123456789012:table/Other')).toBe('ExplicitDeny');
  });
});

describe('conditions', () => {
  const allowWhen = (Condition: PolicyStatement['Condition']): PolicyStatement[] => [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: TABLE, Condition }];
  const check = (Condition: PolicyStatement['Condition'], context?: RequestContext) => decide(allowWhen(Condition), 'dynamodb:GetItem', TABLE, context);

  it('matches StringEquals when any policy value equals the request value', () => {
    expect(check({ StringEquals: { 'aws:PrincipalTag/team': ['red', 'blue'] } }, { 'aws:PrincipalTag/team': 'blue' })).toBe('Allow');
    expect(check({ StringEquals: { 'aws:PrincipalTag/team': ['red', 'blue'] } }, { 'aws:PrincipalTag/team': 'Blue' })).toBe('ImplicitDeny');
  });

  it('requires every key under one operator and every operator to match', () => {
    const condition = { StringEquals: { 'aws:RequestedRegion': 'us-east-1', 'aws:PrincipalAccount': '123456789012' }, Bool: { 'aws:SecureTransport': true } };
    expect(check(condition, { 'aws:RequestedRegion': 'us-east-1', 'aws:PrincipalAccount': '123456789012', 'aws:SecureTransport': 'true' })).toBe('Allow');
    expect(check(condition, { 'aws:RequestedRegion': 'us-east-1', 'aws:PrincipalAccount': '123456789012', 'aws:SecureTransport': 'false' })).toBe('ImplicitDeny');
    expect(check(condition, { 'aws:RequestedRegion': 'us-east-1', 'aws:SecureTransport': 'true' })).toBe('ImplicitDeny');
  });

  it('looks condition keys up case-insensitively', () => {
    expect(check({ StringEquals: { 'AWS:RequestedRegion': 'us-east-1' } }, { 'aws:requestedregion': 'us-east-1' })).toBe('Allow');
  });

  it('matches StringNotEquals only when no policy value equals the request value', () => {
    expect(check({ StringNotEquals: { 'aws:RequestedRegion': ['eu-west-1', 'eu-central-1'] } }, { 'aws:RequestedRegion': 'us-east-1' })).toBe('Allow');
    expect(check({ StringNotEquals: { 'aws:RequestedRegion': ['eu-west-1', 'eu-central-1'] } }, { 'aws:RequestedRegion': 'eu-west-1' })).toBe('ImplicitDeny');
  });

  it('matches StringLike and StringNotLike with wildcards', () => {
    expect(check({ StringLike: { 'aws:userid': 'AROA*:worker-?' } }, { 'aws:userid': 'AROAEXAMPLE:worker-1' })).toBe('Allow');
    expect(check({ StringNotLike: { 'aws:userid': 'AROA*:worker-?' } }, { 'aws:userid': 'AROAEXAMPLE:worker-1' })).toBe('ImplicitDeny');
  });

  it('compares ARNs part by part with ArnLike and ArnEquals', () => {
    const source = 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/@connections/*';
    expect(check({ ArnLike: { 'aws:SourceArn': 'arn:aws:execute-api:*:123456789012:abc123/*' } }, { 'aws:SourceArn': source })).toBe('Allow');
    expect(check({ ArnEquals: { 'aws:SourceArn': 'arn:aws:execute-api:us-east-1:*:abc123/*' } }, { 'aws:SourceArn': source })).toBe('Allow');
    expect(check({ ArnLike: { 'aws:SourceArn': 'arn:aws:execute-api:*:999999999999:*' } }, { 'aws:SourceArn': source })).toBe('ImplicitDeny');
    expect(check({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:execute-api:*:999999999999:*' } }, { 'aws:SourceArn': source })).toBe('Allow');
    expect(check({ ArnNotEquals: { 'aws:SourceArn': source } }, { 'aws:SourceArn': source })).toBe('ImplicitDeny');
  });

  it('does not match an ArnLike condition against a value that is not an ARN', () => {
    expect(check({ ArnLike: { 'aws:SourceArn': '*' } }, { 'aws:SourceArn': 'not-an-arn' })).toBe('ImplicitDeny');
  });

  it('compares numbers with the Numeric operators', () => {
    const ctx = { 'dynamodb:ReturnConsumedCapacity': '5' };
    expect(check({ NumericEquals: { 'dynamodb:ReturnConsumedCapacity': 5 } }, ctx)).toBe('Allow');
    expect(check({ NumericLessThan: { 'dynamodb:ReturnConsumedCapacity': '10' } }, ctx)).toBe('Allow');
    expect(check({ NumericLessThanEquals: { 'dynamodb:ReturnConsumedCapacity': '5' } }, ctx)).toBe('Allow');
    expect(check({ NumericGreaterThan: { 'dynamodb:ReturnConsumedCapacity': '5' } }, ctx)).toBe('ImplicitDeny');
    expect(check({ NumericGreaterThanEquals: { 'dynamodb:ReturnConsumedCapacity': '5' } }, ctx)).toBe('Allow');
    expect(check({ NumericEquals: { 'dynamodb:ReturnConsumedCapacity': '5' } }, { 'dynamodb:ReturnConsumedCapacity': 'five' })).toBe('ImplicitDeny');
  });

  it('makes a positive condition fail when its key is missing from the context', () => {
    expect(check({ StringEquals: { 'aws:PrincipalTag/team': 'red' } })).toBe('ImplicitDeny');
    expect(check({ Bool: { 'aws:SecureTransport': 'true' } })).toBe('ImplicitDeny');
  });

  it('makes a negated condition match when its key is missing from the context, as AWS documents', () => {
    expect(check({ StringNotEquals: { 'aws:PrincipalTag/team': 'red' } })).toBe('Allow');
    expect(check({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:*' } })).toBe('Allow');
  });

  it('treats an IfExists condition as matching when its key is missing, and tests it when present', () => {
    expect(check({ StringEqualsIfExists: { 'aws:PrincipalTag/team': 'red' } })).toBe('Allow');
    expect(check({ StringEqualsIfExists: { 'aws:PrincipalTag/team': 'red' } }, { 'aws:PrincipalTag/team': 'blue' })).toBe('ImplicitDeny');
  });

  it('tests whether a key is present with Null', () => {
    expect(check({ Null: { 'aws:TokenIssueTime': 'true' } })).toBe('Allow');
    expect(check({ Null: { 'aws:TokenIssueTime': 'false' } })).toBe('ImplicitDeny');
    expect(check({ Null: { 'aws:TokenIssueTime': false } }, { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' })).toBe('Allow');
  });

  it('requires every request value to be allowed with ForAllValues', () => {
    const condition = { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'status'] } };
    expect(check(condition, { 'dynamodb:Attributes': ['pk', 'status'] })).toBe('Allow');
    expect(check(condition, { 'dynamodb:Attributes': ['pk', 'secret'] })).toBe('ImplicitDeny');
    // AWS's documented pitfall: an absent key makes ForAllValues true.
    expect(check(condition)).toBe('Allow');
  });

  it('requires at least one request value to match with ForAnyValue', () => {
    const condition = { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': 'user#*' } };
    expect(check(condition, { 'dynamodb:LeadingKeys': ['job#1', 'user#7'] })).toBe('Allow');
    expect(check(condition, { 'dynamodb:LeadingKeys': ['job#1'] })).toBe('ImplicitDeny');
    expect(check(condition)).toBe('ImplicitDeny');
  });

  it('denies explicitly only when the Deny statement condition matches', () => {
    const statements: PolicyStatement[] = [
      { Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' },
      { Effect: 'Deny', Action: 'dynamodb:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    ];
    expect(decide(statements, 'dynamodb:GetItem', TABLE, { 'aws:SecureTransport': 'false' })).toBe('ExplicitDeny');
    expect(decide(statements, 'dynamodb:GetItem', TABLE, { 'aws:SecureTransport': 'true' })).toBe('Allow');
  });

  it('throws a named error for a condition operator it does not implement instead of allowing', () => {
    const statements = allowWhen({ DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' } });
    expect(() => decide(statements, 'dynamodb:GetItem')).toThrow(UnsupportedConditionOperatorError);
    expect(() => decide(statements, 'dynamodb:GetItem')).toThrow(/DateGreaterThan.*jobs-access#0/);
  });

  it('throws for an unsupported operator even in a statement the request never reaches', () => {
    const statements: PolicyStatement[] = [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }];
    expect(() => decide(statements, 'dynamodb:GetItem')).toThrow(UnsupportedConditionOperatorError);
  });

  it('rejects Null combined with IfExists or a set operator', () => {
    expect(() => check({ NullIfExists: { 'aws:TokenIssueTime': 'true' } })).toThrow(UnsupportedConditionOperatorError);
    expect(() => check({ 'ForAnyValue:Null': { 'aws:TokenIssueTime': 'true' } })).toThrow(UnsupportedConditionOperatorError);
  });
});

describe('policy document validation', () => {
  const invalid = (statement: Record<string, unknown>) => () => validatePolicyDocument(policy(statement as unknown as PolicyStatement));

  it('rejects a statement with both Action and NotAction, naming the statement', () => {
    const attempt = invalid({ Sid: 'Both', Effect: 'Allow', Action: 'dynamodb:*', NotAction: 'dynamodb:DeleteItem', Resource: '*' });
    expect(attempt).toThrow(PolicyDocumentError);
    expect(attempt).toThrow('Statement jobs-access#0 (Both) must have exactly one of Action and NotAction');
  });

  it('rejects a statement with neither Action nor NotAction', () => {
    expect(invalid({ Effect: 'Allow', Resource: '*' })).toThrow(PolicyDocumentError);
  });

  it('rejects an Effect other than Allow or Deny', () => {
    expect(invalid({ Effect: 'allow', Action: 'dynamodb:*', Resource: '*' })).toThrow('has Effect allow; expected Allow or Deny');
  });

  it('rejects a statement with neither Resource nor NotResource', () => {
    expect(invalid({ Effect: 'Allow', Action: 'dynamodb:*' })).toThrow(/exactly one of Resource and NotResource/);
  });

  it('rejects an action without a service prefix', () => {
    expect(invalid({ Effect: 'Allow', Action: 'UpdateItem', Resource: '*' })).toThrow(/expected service:Action/);
  });

  it('rejects an unknown policy Version', () => {
    expect(() => validatePolicyDocument({ Version: '2024-01-01', Statement: [] })).toThrow(PolicyDocumentError);
  });

  it('names the statement in the error it carries', () => {
    try {
      validatePolicyDocument(policy({ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }, { Effect: 'Maybe' } as unknown as PolicyStatement));
      throw new Error('expected a PolicyDocumentError');
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyDocumentError);
      expect((error as PolicyDocumentError).statement).toBe('jobs-access#1');
    }
  });
});
