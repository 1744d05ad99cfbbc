/**
 * Runs the real Pulumi program (`index.ts`) against Pulumi's mocks: every
 * resource the program registers is recorded with its inputs, and the stack
 * outputs are resolved. Each run loads a fresh copy of the program (and of the
 * Pulumi SDK) so that runs with different config do not share state.
 *
 * AWS itself is the only thing faked: mocks answer with ids, ARNs and the few
 * attributes the program reads back (stream ARN, execution ARN, endpoint).
 */
import * as path from 'node:path';
import type * as PulumiModule from '@pulumi/pulumi';
import { buildFunctionBundles, StaleBundleError, verifyPrebuiltBundles } from '../../infra/function-bundles';

/** The project root: what the program bundles. */
export const ROOT = path.join(__dirname, '..', '..');

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const PROJECT = 'streamer';
export const DEFAULT_STACK = 'dev';
/** A valid HS256 secret (≥ 32 characters) for runs that are not about auth. */
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256!';

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  // Inputs are whatever the program passed, after Pulumi resolved them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly inputs: Record<string, any>;
}

export interface ProgramRun {
  readonly resources: readonly RecordedResource[];
  readonly outputs: Record<string, unknown>;
  /** URNs of every registered resource: they show each resource's parent chain. */
  readonly urns: readonly string[];
  /** Every resource of a type (`aws:lambda/function:Function`). */
  ofType(type: string): RecordedResource[];
  /** The one resource of a type with this logical name. */
  named(type: string, name: string): RecordedResource;
}

export interface RunOptions {
  readonly stack?: string;
  /** Keys (without `streamer:`) to pass as secrets. Defaults to `jwtSecret` when present. */
  readonly secretKeys?: readonly string[];
}

/** Where {@link testBundles} keeps its build, relative to the root. */
export const TEST_BUNDLES = 'dist/stacks/infra-tests';
let testBundlesReady = false;

/**
 * Real bundles of this tree (source maps off), for runs that are not about
 * bundling: built once, then reused by every run and test file while the
 * sources are unchanged (the program checks them as it checks any prebuilt
 * folder). Returns the folder, relative to the root, for `streamer:prebuiltBundles`.
 */
export function testBundles(): string {
  if (!testBundlesReady) {
    const settings = { sourceMaps: false };
    try {
      verifyPrebuiltBundles(ROOT, path.join(ROOT, TEST_BUNDLES), settings);
    } catch (error) {
      if (!(error instanceof StaleBundleError)) throw error;
      buildFunctionBundles({ root: ROOT, outDir: path.join(ROOT, TEST_BUNDLES), settings });
    }
    testBundlesReady = true;
  }
  return TEST_BUNDLES;
}

function arnFor(type: string, physicalName: string): string {
  const service = type.split(':')[1].split('/')[0];
  switch (type) {
    case 'aws:cloudwatch/logGroup:LogGroup':
      return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${physicalName}`;
    case 'aws:dynamodb/table:Table':
      return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${physicalName}`;
    case 'aws:lambda/function:Function':
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${physicalName}`;
    case 'aws:iam/role:Role':
      return `arn:aws:iam::${ACCOUNT}:role/${physicalName}`;
    case 'aws:cloudwatch/eventRule:EventRule':
      return `arn:aws:events:${REGION}:${ACCOUNT}:rule/${physicalName}`;
    case 'aws:sqs/queue:Queue':
      return `arn:aws:sqs:${REGION}:${ACCOUNT}:${physicalName}`;
    case 'aws:ssm/parameter:Parameter':
      return `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/${physicalName.replace(/^\//, '')}`;
    default:
      return `arn:aws:${service}:${REGION}:${ACCOUNT}:${physicalName}`;
  }
}

const mocks: PulumiModule.runtime.Mocks = {
  newResource({ type, name, inputs }) {
    const id = `${name}-id`;
    const physicalName: string = inputs.name ?? `${name}-4f3e2d1`;
    const arn = arnFor(type, physicalName);
    const state: Record<string, unknown> = { ...inputs, name: physicalName, arn };
    switch (type) {
      case 'aws:dynamodb/table:Table':
        if (inputs.streamEnabled) state.streamArn = `${arn}/stream/2025-01-01T00:00:00.000`;
        break;
      case 'aws:apigatewayv2/api:Api':
        state.executionArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${id}`;
        state.apiEndpoint = `wss://${id}.execute-api.${REGION}.amazonaws.com`;
        break;
      case 'aws:lambda/function:Function':
        state.invokeArn = `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${arn}/invocations`;
        break;
      case 'aws:sqs/queue:Queue':
        state.url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physicalName}`;
        break;
    }
    return { id, state };
  },
  call({ token }) {
    switch (token) {
      case 'aws:index/getRegion:getRegion':
        return { id: REGION, name: REGION, region: REGION, description: 'Europe (Ireland)', endpoint: `ec2.${REGION}.amazonaws.com` };
      case 'aws:index/getCallerIdentity:getCallerIdentity':
        return { id: ACCOUNT, accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: 'AIDTEST' };
      case 'aws:index/getPartition:getPartition':
        return { id: 'aws', partition: 'aws', dnsSuffix: 'amazonaws.com', reverseDnsPrefix: 'com.amazonaws' };
      default:
        throw new Error(`The program called ${token}, which these tests do not mock`);
    }
  },
};

async function resolve(value: unknown, pulumi: typeof PulumiModule): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) return new Promise((done) => value.apply((v) => done(v)));
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolve(v, pulumi)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * Runs `index.ts` with this stack config (keys without `streamer:`; other
 * namespaces, e.g. `aws:region`, written in full).
 */
/** Pulumi's wire signature of a secret value. */
const SECRET_SIGNATURE = '4dabf18193072939515e22adb298388d';

/** Values the program marked secret reach the mocks wrapped; this unwraps them (and says whether it was). */
export function unwrapSecret(value: unknown): { readonly secret: boolean; readonly value: unknown } {
  if (value !== null && typeof value === 'object' && SECRET_SIGNATURE in value && 'value' in value) {
    return { secret: true, value: (value as { value: unknown }).value };
  }
  return { secret: false, value };
}

export async function runProgram(config: Record<string, string>, options: RunOptions = {}): Promise<ProgramRun> {
  const resources: RecordedResource[] = [];
  let outputs: Record<string, unknown> = {};
  let urns: string[] = [];
  const secretKeys = options.secretKeys ?? (config.jwtSecret !== undefined ? ['jwtSecret'] : []);
  process.env.STREAMER_PROJECT_ROOT = ROOT;
  // Bundling is a test of its own (function-code.test.ts): other runs ship the shared test build.
  if (!('prebuiltBundles' in config)) config = { ...config, prebuiltBundles: testBundles() };

  const execution = jest.isolateModulesAsync(async () => {
    const pulumi = await import('@pulumi/pulumi');
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          resources.push({ type: args.type, name: args.name, inputs: args.inputs });
          return mocks.newResource(args);
        },
        call: mocks.call,
      },
      PROJECT,
      options.stack ?? DEFAULT_STACK,
      false,
    );
    const fullConfig = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(':') ? k : `streamer:${k}`, v]));
    pulumi.runtime.setAllConfig(fullConfig, secretKeys.map((k) => `streamer:${k}`));
    const program = (await import('../../index')) as Record<string, unknown>;
    outputs = (await resolve({ ...program }, pulumi)) as Record<string, unknown>;
    // Resources whose inputs wait on other resources register later: let every registration finish
    // (the SDK's own wait before it disconnects; internal, hence the check).
    const settings = require('@pulumi/pulumi/runtime/settings') as { waitForRPCs?: () => Promise<void> };
    if (typeof settings.waitForRPCs !== 'function') {
      throw new Error('@pulumi/pulumi no longer has runtime/settings.waitForRPCs: update tests/infra/pulumi-program.ts');
    }
    await settings.waitForRPCs();
    const monitor = pulumi.runtime.getMonitor() as unknown as { getRegisteredResources(): Map<string, unknown> };
    urns = [...monitor.getRegisteredResources().keys()];
  });
  // A failed run says how far it got: bad config must stop it before any resource.
  await execution.catch((error: unknown) => {
    throw Object.assign(error instanceof Error ? error : new Error(String(error)), { registeredResources: resources.length });
  });

  return {
    resources,
    outputs,
    urns,
    ofType: (type) => resources.filter((r) => r.type === type),
    named(type, name) {
      const found = resources.filter((r) => r.type === type && r.name === name);
      if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
      return found[0];
    },
  };
}

/** Runs the program with a valid minimal config plus `overrides`. */
export function runWithDefaults(overrides: Record<string, string> = {}, options: RunOptions = {}): Promise<ProgramRun> {
  return runProgram({ jwtSecret: TEST_JWT_SECRET, ...overrides }, options);
}
