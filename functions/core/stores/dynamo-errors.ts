/** True for DynamoDB's "your condition did not hold" answer, which is an expected outcome, not a failure. */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
