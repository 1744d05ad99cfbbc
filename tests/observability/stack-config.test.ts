/** `streamer:tracing` and `streamer:logLevel` reach every function as Lambda and Powertools settings. */
import { runWithDefaults, unwrapSecret, type ProgramRun, type RecordedResource } from '../infra/pulumi-program';
import { FUNCTION_NAMES } from '../../functions/core/function-declarations';

const FN = 'aws:lambda/function:Function';
const POLICY = 'aws:iam/rolePolicy:RolePolicy';

const variablesOf = (fn: RecordedResource): Record<string, string> =>
  (unwrapSecret(fn.inputs.environment).value as { variables: Record<string, string> }).variables;

const FUNCTIONS = FUNCTION_NAMES;

/** Whether each function's role may send traces. */
const grantsXRay = (run: ProgramRun): boolean[] =>
  FUNCTIONS.map((fn) => JSON.stringify(unwrapSecret(run.named(POLICY, `streamer-${fn}`).inputs.policy).value).includes('xray:PutTraceSegments'));

describe('observability settings from stack config', () => {
  it('traces nothing by default and logs at INFO', async () => {
    const run = await runWithDefaults();
    for (const fn of run.ofType(FN)) {
      expect(fn.inputs.tracingConfig).toEqual({ mode: 'PassThrough' });
      expect(variablesOf(fn)).toMatchObject({ POWERTOOLS_TRACE_ENABLED: 'false', POWERTOOLS_LOG_LEVEL: 'INFO' });
    }
    expect(grantsXRay(run)).toEqual(FUNCTIONS.map(() => false));
  });

  it('turns on X-Ray (Active, the Powertools Tracer, the grant) for every function with streamer:tracing', async () => {
    const run = await runWithDefaults({ tracing: 'true', logLevel: 'DEBUG' });
    expect(run.ofType(FN)).toHaveLength(FUNCTIONS.length);
    for (const fn of run.ofType(FN)) {
      expect(fn.inputs.tracingConfig).toEqual({ mode: 'Active' });
      expect(variablesOf(fn)).toMatchObject({ POWERTOOLS_TRACE_ENABLED: 'true', POWERTOOLS_LOG_LEVEL: 'DEBUG' });
    }
    expect(grantsXRay(run)).toEqual(FUNCTIONS.map(() => true));
  });
});
