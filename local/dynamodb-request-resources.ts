/**
 * What IAM evaluates for one DynamoDB API call: the action and every
 * resource ARN it touches, as AWS's service authorization reference lists
 * them. A `Query` on an index is authorized on the index ARN
 * (`…:table/<name>/index/<index>`), a batch once per table it names, a
 * transaction once per item with the item's own action.
 */

export interface DynamoDbAuthorization {
  /** `dynamodb:<Action>` */
  readonly action: string;
  readonly resource: string;
}

export class UnsupportedDynamoDbOperationError extends Error {
  override readonly name = 'UnsupportedDynamoDbOperationError';
}

type Body = Readonly<Record<string, unknown>>;

/** Operations addressed by `TableName` (and for reads, optionally `IndexName`). */
const SINGLE_TABLE = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'DescribeTable',
  'CreateTable',
  'DeleteTable',
  'UpdateTable',
  'DescribeTimeToLive',
  'UpdateTimeToLive',
]);

const TRANSACT_ITEM_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

export function tableArn(region: string, accountId: string, tableName: string): string {
  return `arn:aws:dynamodb:${region}:${accountId}:table/${tableName}`;
}

/**
 * The authorizations a request needs, from its `X-Amz-Target`
 * (`DynamoDB_20120810.<Operation>`) and its JSON body.
 */
export function dynamoDbAuthorizations(target: string, body: Body, region: string, accountId: string): DynamoDbAuthorization[] {
  const operation = target.replace(/^DynamoDB_\d+\./, '');
  const arn = (name: unknown): string => {
    if (typeof name !== 'string' || name === '') throw new UnsupportedDynamoDbOperationError(`${operation} without a TableName`);
    return tableArn(region, accountId, name);
  };
  if (SINGLE_TABLE.has(operation)) {
    const base = arn(body.TableName);
    const resource = typeof body.IndexName === 'string' && (operation === 'Query' || operation === 'Scan') ? `${base}/index/${body.IndexName}` : base;
    return [{ action: `dynamodb:${operation}`, resource }];
  }
  if (operation === 'BatchWriteItem' || operation === 'BatchGetItem') {
    const items = (body.RequestItems ?? {}) as Body;
    return Object.keys(items).map((name) => ({ action: `dynamodb:${operation}`, resource: arn(name) }));
  }
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    const items = (body.TransactItems ?? []) as readonly Body[];
    return items.flatMap((item) =>
      Object.entries(item).map(([kind, detail]) => {
        const action = TRANSACT_ITEM_ACTIONS[kind];
        if (!action) throw new UnsupportedDynamoDbOperationError(`${operation} item kind ${kind}`);
        return { action: `dynamodb:${action}`, resource: arn((detail as Body).TableName) };
      }),
    );
  }
  if (operation === 'ListTables') return [{ action: 'dynamodb:ListTables', resource: '*' }];
  throw new UnsupportedDynamoDbOperationError(`the local runtime does not authorize DynamoDB ${operation} yet`);
}
