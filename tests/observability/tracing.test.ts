/**
 * Tracing follows `POWERTOOLS_TRACE_ENABLED` (set from `streamer:tracing`):
 * off, the Tracer is never loaded; on, every AWS SDK client the core builds
 * is captured. The function bundles leave the Tracer out and ship it beside
 * them, so a function with tracing off does not pay for aws-xray-sdk-core.
 */
import { spawnSync } from 'node:child_process';
import { FUNCTION_NAMES } from '../../functions/core/function-declarations';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadTracer, tracedClients } from '../../functions/tracing';

const DIST = join(__dirname, '..', '..', 'dist');
const FUNCTIONS = FUNCTION_NAMES;
const TRACER_MODULE = join('node_modules', '@aws-lambda-powertools', 'tracer', 'index.js');

function withEnv<T>(values: Record<string, string>, run: () => T): T {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  Object.assign(process.env, values);
  try {
    return run();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

describe('tracing', () => {
  it('loads no tracer unless POWERTOOLS_TRACE_ENABLED is true', () => {
    expect(loadTracer('svc', {})).toBeUndefined();
    expect(loadTracer('svc', { POWERTOOLS_TRACE_ENABLED: 'false' })).toBeUndefined();
  });

  it('captures the AWS SDK clients when tracing is on in Lambda', () => {
    withEnv({ POWERTOOLS_TRACE_ENABLED: 'true', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_LAMBDA_FUNCTION_NAME: 'streamer-test-router' }, () => {
      const tracer = loadTracer('streamer-test', process.env);
      expect(tracer?.isTracingEnabled()).toBe(true);
      const client = tracedClients(tracer!)(new DynamoDBClient({ region: 'eu-west-1' }));
      expect(client.middlewareStack.identify().join('\n')).toContain('XRaySDKInstrumentation');
    });
  });

  describe('in the built bundles (npm run build)', () => {
    const built = FUNCTIONS.every((fn) => existsSync(join(DIST, fn, 'index.js')));
    if (!built) throw new Error('Build the functions first: node scripts/build.mjs --functions-only');

    it.each(FUNCTIONS)('ships the Tracer beside the %s bundle, not inside it', (fn) => {
      expect(readFileSync(join(DIST, fn, 'index.js'), 'utf8')).not.toContain('XRaySDKInstrumentation');
      expect(statSync(join(DIST, fn, TRACER_MODULE)).size).toBeGreaterThan(50_000);
    });

    it.each([
      ['false', false],
      ['true', true],
    ])('with POWERTOOLS_TRACE_ENABLED=%s the processor bundle loads the Tracer: %s', (enabled, loaded) => {
      const script = `require(${JSON.stringify(join(DIST, 'processor', 'index.js'))});
        process.stdout.write(String(Object.keys(require.cache).some((f) => f.endsWith(${JSON.stringify(TRACER_MODULE)}))));`;
      const child = spawnSync(process.execPath, ['-e', script], {
        env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', POWERTOOLS_TRACE_ENABLED: enabled, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' },
        encoding: 'utf8',
      });
      expect(child.stderr).toBe('');
      expect(child.stdout).toBe(String(loaded));
    });
  });
});
