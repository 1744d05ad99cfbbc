/**
 * The environment the functions see locally, the same contract `infra/`
 * fulfils on AWS (`ENV` in runtime-env.ts): table names, the management
 * endpoint, the worker function, the JWT secret. AWS SDK clients inside the
 * functions reach the emulators through the SDK's own service-specific
 * endpoint variables (`AWS_ENDPOINT_URL_<SERVICE>`), so no function code
 * knows it runs locally. Credentials are dummies: a local run can never
 * touch a real AWS account (a container sees no other variables).
 */
import { METRICS_NAMESPACE } from '../functions/core/metric-names';
import { ENV } from '../functions/core/runtime-env';
import { devJwtSecret } from './dev-token';
import { physicalFunctionName } from './interim-function-specs';
import { type LocalTable, TABLE_NAME_ENV } from './tables';

export interface FunctionEnvironmentInput {
  readonly tables: readonly LocalTable[];
  /** Where the gateway, `@connections` and Lambda APIs listen: `http://127.0.0.1:<port>`. */
  readonly httpEndpoint: string;
  readonly dynamodbEndpoint: string;
  readonly region: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Variables the runtime always sets (they describe the emulated cloud, not the app). */
export function functionEnvironment(input: FunctionEnvironmentInput): Record<string, string> {
  const env = input.env ?? process.env;
  const values: Record<string, string> = {
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: input.dynamodbEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: input.dynamodbEndpoint,
    AWS_ENDPOINT_URL_LAMBDA: input.httpEndpoint,
    AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: input.httpEndpoint,
    [ENV.managementEndpoint]: input.httpEndpoint,
    [ENV.workerFunction]: physicalFunctionName('processor'),
    [ENV.jwtSecret]: devJwtSecret(env),
    // X-Ray is absent locally. Metrics are printed as EMF, as on AWS, and the runtime aggregates them (function-output.ts).
    POWERTOOLS_TRACE_ENABLED: env.POWERTOOLS_TRACE_ENABLED ?? 'false',
    POWERTOOLS_METRICS_DISABLED: env.POWERTOOLS_METRICS_DISABLED ?? 'false',
    POWERTOOLS_METRICS_NAMESPACE: env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME: env.POWERTOOLS_SERVICE_NAME ?? 'streamer-local',
  };
  for (const table of input.tables) values[TABLE_NAME_ENV[table.shape.logicalName]] = table.name;
  return values;
}
