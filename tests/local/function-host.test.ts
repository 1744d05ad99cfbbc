import { FunctionHost, LOCAL_FUNCTION_CONFIG } from '../../local/function-host';
import { FIXTURE_FUNCTIONS_DIR } from '../support/local-runtime';

function host(overrides: Partial<ConstructorParameters<typeof FunctionHost>[0]> = {}): FunctionHost {
  const functions = new FunctionHost({ functionsDir: FIXTURE_FUNCTIONS_DIR, region: 'us-east-1', ...overrides });
  functions.load();
  return functions;
}

describe('the function host', () => {
  it('gives each invocation a Lambda context counting down from the function’s timeout', async () => {
    const outcome = await host().invoke('processor', { hello: 1 });
    expect(outcome.ok).toBe(true);
    const result = (outcome as { result: { functionName: string; remainingMs: number } }).result;
    expect(result.functionName).toBe('streamer-local-processor');
    expect(result.remainingMs).toBeGreaterThan(LOCAL_FUNCTION_CONFIG.processor.timeoutSeconds * 1000 - 1000);
  });

  it('reports an invocation that outlives its timeout as Lambda does', async () => {
    const functions = host({ config: { processor: { timeoutSeconds: 0.1, memoryMb: 128 } } });
    const outcome = await functions.invoke('processor', { sleepMs: 300 });
    expect(outcome).toMatchObject({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 0.10 seconds' } });
    await functions.idle();
  });

  it('resolves function names and ARNs, and nothing else', () => {
    const functions = host();
    expect(functions.resolve('streamer-local-router')).toBe('router');
    expect(functions.resolve('arn:aws:lambda:us-east-1:000000000000:function:streamer-local-processor:$LATEST')).toBe('processor');
    expect(functions.resolve('000000000000:function:streamer-local-connect')).toBe('connect');
    expect(functions.resolve('streamer-local-unknown')).toBeUndefined();
    expect(functions.resolve('other-router')).toBeUndefined();
  });

  it('runs asynchronous invocations behind the concurrency cap', async () => {
    const functions = host({ asyncConcurrency: 2 });
    let running = 0;
    let peak = 0;
    jest.spyOn(functions as unknown as { run: (...args: unknown[]) => Promise<unknown> }, 'run').mockImplementation(async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 30));
      running -= 1;
      return { ok: true, result: null, requestId: 'x' };
    });
    for (let i = 0; i < 6; i += 1) functions.invokeAsync('processor', { i });
    await functions.idle();
    expect(peak).toBe(2);
  });

  it('retries a failed asynchronous invocation as Lambda does, then gives up', async () => {
    const functions = host({ asyncRetry: { maximumRetryAttempts: 1, delaysMs: [20] } });
    const run = jest.spyOn(functions as unknown as { run: (fn: string, event: unknown) => Promise<unknown> }, 'run');
    functions.invokeAsync('processor', { fail: 'always' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await functions.idle();
    expect(run).toHaveBeenCalledTimes(2);
    await functions.stop();
  });
});
