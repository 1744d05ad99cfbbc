/**
 * The errors `local/iam` throws. Each is a misconfiguration (a policy the
 * emulator cannot judge the way AWS would), so each fails loudly instead of
 * quietly allowing or denying a call.
 */

/** Base class of every error thrown by `local/iam`; catch this to catch them all. */
export class IamError extends Error {
  override readonly name: string = 'IamError';
}

/**
 * A policy document AWS would reject when it is attached (for example a
 * statement with both `Action` and `NotAction`).
 *
 * @example
 * ```ts
 * try { evaluatePolicies(policies, request); }
 * catch (error) { if (error instanceof PolicyDocumentError) console.error(error.statement, error.message); }
 * ```
 */
export class PolicyDocumentError extends IamError {
  override readonly name = 'PolicyDocumentError';

  /**
   * @param message - what is wrong, naming the statement.
   * @param statement - where it is: `policyName#index (Sid)`.
   */
  constructor(
    message: string,
    readonly statement: string,
  ) {
    super(message);
  }
}

/**
 * A condition operator AWS knows but this evaluator does not implement
 * (dates, IP addresses, binary). Throwing keeps the evaluator from ever
 * allowing a call AWS would have denied.
 */
export class UnsupportedConditionOperatorError extends IamError {
  override readonly name = 'UnsupportedConditionOperatorError';

  /**
   * @param operator - the operator as written in the policy, e.g. `DateGreaterThan`.
   * @param statement - where it is: `policyName#index (Sid)`.
   */
  constructor(
    readonly operator: string,
    readonly statement: string,
  ) {
    super(`Condition operator ${operator} in statement ${statement} is not supported by the local IAM evaluator`);
  }
}
