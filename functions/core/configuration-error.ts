/**
 * A function that cannot work as deployed: a variable missing or malformed,
 * or code reaching for a capability its declaration does not list. These
 * fail the invocation loudly (a Lambda error the alarms count) instead of
 * becoming a protocol error a client would see as a normal answer.
 */
export class ConfigurationError extends Error {
  override readonly name: string = 'ConfigurationError';

  constructor(message: string) {
    super(`Streamer is misconfigured: ${message}`);
  }
}

/**
 * Code used a capability or read a variable that the function's declaration
 * does not list: on AWS the variable would be absent and the call denied, so
 * the mistake is reported where it is made.
 */
export class UndeclaredCapabilityError extends ConfigurationError {
  override readonly name = 'UndeclaredCapabilityError';

  constructor(readonly functionName: string, readonly what: string) {
    super(`the ${functionName} function uses ${what}, which its declaration in functions/core/function-declarations.ts does not list`);
  }
}
