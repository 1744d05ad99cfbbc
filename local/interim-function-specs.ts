/**
 * INTERIM: the four Streamer functions as `LambdaFunctionSpec`s, built from
 * what `function-environment.ts` computes, until the runtime boots from the
 * deployment manifest (which will name the functions, their code, memory,
 * timeouts and exact environments, as the Pulumi program renders them).
 * Physical names are `streamer-local-<fn>`.
 */
import { join } from 'node:path';
import { FUNCTION_DEFAULTS } from '../functions/core/cloud-shapes';
import { ENV } from '../functions/core/runtime-env';
import type { AsyncRetryPolicy, LambdaFunctionSpec } from './lambda-containers';

export const LOCAL_FUNCTIONS = ['connect', 'disconnect', 'router', 'processor'] as const;
export type LocalFunctionName = (typeof LOCAL_FUNCTIONS)[number];

export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_FUNCTION_PREFIX = 'streamer-local-';

export function physicalFunctionName(fn: LocalFunctionName): string {
  return `${LOCAL_FUNCTION_PREFIX}${fn}`;
}

export function functionArn(fn: LocalFunctionName, region: string): string {
  return `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${physicalFunctionName(fn)}`;
}

export interface InterimSpecInput {
  /** Folder holding `<fn>/index.js` for each function (the build's `dist/`). */
  readonly functionsDir: string;
  readonly region: string;
  /** The emulated cloud's variables (`functionEnvironment`). */
  readonly environment: Readonly<Record<string, string>>;
  readonly asyncRetry: AsyncRetryPolicy;
  /** The runtime's environment, read only for the deployment settings a developer sets there. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The four functions, each with the same environment (on AWS, stack config sets them alike too). */
export function interimFunctionSpecs(input: InterimSpecInput): LambdaFunctionSpec[] {
  const environment = { ...deploymentSettings(input.env ?? process.env), ...input.environment };
  return LOCAL_FUNCTIONS.map((fn) => ({
    name: physicalFunctionName(fn),
    arn: functionArn(fn, input.region),
    codeDir: join(input.functionsDir, fn),
    handler: 'index.handler',
    environment,
    memoryMb: FUNCTION_DEFAULTS[fn].memoryMb,
    timeoutSeconds: FUNCTION_DEFAULTS[fn].timeoutSeconds,
    asyncRetry: input.asyncRetry,
  }));
}

/**
 * What stack config would set on AWS, taken from the runtime's environment by name: the
 * variables of the functions' contract (`ENV`) and Powertools' settings. Nothing else of the
 * runtime's environment reaches a function.
 */
function deploymentSettings(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const contract = new Set<string>(Object.values(ENV));
  const settings: Record<string, string> = {
    // The functions deploy on nodejs22.x, where the AWS SDK has no Node.js version to warn about.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && (contract.has(name) || name.startsWith('POWERTOOLS_'))) settings[name] = value;
  }
  return settings;
}
