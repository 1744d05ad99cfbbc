/**
 * The environment of one function's container: exactly what the manifest
 * declares for it, plus what Lambda itself sets in every container
 * (`AWS_REGION`, `AWS_LAMBDA_FUNCTION_NAME`, the role's session credentials,
 * …) and the endpoint overrides that point the AWS SDK at the emulators.
 * Nothing of the runtime's own environment leaks in, and no other
 * function's variables: a variable the stack does not give a function is
 * absent here too.
 *
 * The one value rewritten is the management API endpoint
 * (`https://{api}.execute-api.{region}.amazonaws.com/{stage}` becomes the
 * local gateway's URL with the same stage path): it is an endpoint, and the
 * functions pass it to the SDK themselves.
 */
import { isSecretMarker, type DeployedFunction, type LocalDeployment } from './deployment';

export interface ContainerEnvironmentInput {
  readonly deployment: LocalDeployment;
  /** The role session's credentials (`LocalIam.credentialsFor`). */
  readonly credentials: Readonly<Record<string, string>>;
  /** Where the IAM-checked DynamoDB front listens. */
  readonly dynamodbEndpoint: string;
  /** Where the IAM-checked SSM Parameter Store listens. */
  readonly ssmEndpoint: string;
  /** Where the gateway, `@connections` and Lambda APIs listen: `http://127.0.0.1:<port>`. */
  readonly httpEndpoint: string;
  /** Values of the manifest's redacted secrets, by config key (`streamer:jwtSecret`). */
  readonly secrets: Readonly<Record<string, string>>;
}

export class UnresolvedSecretError extends Error {
  override readonly name = 'UnresolvedSecretError';
}

/** Variables Lambda sets in every Node.js container (the subset functions may read). */
function lambdaRuntimeVariables(fn: DeployedFunction, region: string): Record<string, string> {
  return {
    _HANDLER: fn.handler,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    LAMBDA_TASK_ROOT: fn.codeDir,
    TZ: 'UTC',
    // The deployed runtime is Node.js 22; here the SDK would warn about this machine's Node.js 20 in every container.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

export function containerEnvironment(fn: DeployedFunction, input: ContainerEnvironmentInput): Record<string, string> {
  const { deployment } = input;
  const localManagementEndpoint = `${input.httpEndpoint}/${deployment.api.stage}`;
  const declared: Record<string, string> = {};
  for (const [name, value] of Object.entries(fn.environment)) {
    if (isSecretMarker(value)) {
      const secret = input.secrets[value.$secret];
      if (secret === undefined) {
        throw new UnresolvedSecretError(`${fn.name}'s ${name} is the secret ${value.$secret}, which the local runtime has no value for`);
      }
      declared[name] = secret;
    } else {
      declared[name] = value === deployment.api.managementEndpoint ? localManagementEndpoint : value;
    }
  }
  return {
    ...declared,
    ...lambdaRuntimeVariables(fn, deployment.region),
    ...input.credentials,
    AWS_ENDPOINT_URL_DYNAMODB: input.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SSM: input.ssmEndpoint,
    AWS_ENDPOINT_URL_LAMBDA: input.httpEndpoint,
    AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: localManagementEndpoint,
  };
}
