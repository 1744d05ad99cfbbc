/**
 * Physical names chosen up front. Functions need a fixed name: their log
 * group (`/aws/lambda/<name>`) must exist before them for retention to apply,
 * the processor invokes itself by name, and metrics carry the deployment name
 * as their `service` dimension.
 */

/** Longest suffix appended to the deployment name (`-disconnect`), so every function name fits Lambda's 64 characters. */
const LONGEST_SUFFIX = '-disconnect'.length;
const LAMBDA_NAME_LIMIT = 64;

/**
 * `<project>-<stack>`, reduced to the characters every AWS name here accepts
 * (letters, digits, `-`, `_`) and short enough for a Lambda function name.
 */
export function deploymentName(project: string, stack: string): string {
  const name = `${project}-${stack}`.replace(/[^A-Za-z0-9_-]+/g, '-');
  return name.slice(0, LAMBDA_NAME_LIMIT - LONGEST_SUFFIX).replace(/-+$/, '');
}
