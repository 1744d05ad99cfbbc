/**
 * The Lambda service, emulated: every function in its own worker-thread
 * containers, with exactly its own environment, one invocation at a time per
 * container, Lambda's timeouts, crashes, throttles and async retries. Uses
 * the fixture bundles in tests/local/fixtures/containers/.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionNotBuiltError, type LambdaContainersOptions, LambdaContainers, type LambdaFunctionSpec } from '../../local/lambda-containers';
import { createLogger } from '../../local/log';
import { ensureLocalBundle, REPO_ROOT } from '../support/local-runtime';
import { waitFor } from '../support/wait-for';

jest.setTimeout(30_000);

const FIXTURES = join(REPO_ROOT, 'tests', 'local', 'fixtures', 'containers');
const NO_RETRY = { maximumRetryAttempts: 0, delaysMs: [] };

function spec(name: string, overrides: Partial<LambdaFunctionSpec> = {}): LambdaFunctionSpec {
  return {
    name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    codeDir: join(FIXTURES, 'probe'),
    handler: 'index.handler',
    environment: {},
    memoryMb: 128,
    timeoutSeconds: 10,
    asyncRetry: NO_RETRY,
    ...overrides,
  };
}

const hosts: LambdaContainers[] = [];
const dirs: string[] = [];

function host(functions: LambdaFunctionSpec[], options: Partial<LambdaContainersOptions> = {}): LambdaContainers {
  const lambda = new LambdaContainers({ functions, localConcurrencyCap: 10, ...options });
  lambda.start();
  hosts.push(lambda);
  return lambda;
}

function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'streamer-containers-'));
  dirs.push(dir);
  return dir;
}

function resultOf(outcome: Awaited<ReturnType<LambdaContainers['invoke']>>): Record<string, unknown> {
  if (!outcome.ok) throw new Error(`invocation failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
  return outcome.result as Record<string, unknown>;
}

beforeAll(() => ensureLocalBundle());
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((lambda) => lambda.stop(0)));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('a Lambda container', () => {
  it('sees exactly its function’s environment: nothing of the runtime’s, and another function’s values stay its own', async () => {
    process.env.STREAMER_TEST_PARENT_ONLY = 'runtime';
    try {
      const lambda = host([spec('fn-a', { environment: { SHARED: 'a', ONLY_A: '1' } }), spec('fn-b', { environment: { SHARED: 'b' } })]);
      const a = resultOf(await lambda.invoke('fn-a', { action: 'env', name: 'SHARED' }));
      const b = resultOf(await lambda.invoke('fn-b', { action: 'env', name: 'SHARED' }));
      const parent = resultOf(await lambda.invoke('fn-a', { action: 'env', name: 'STREAMER_TEST_PARENT_ONLY' }));
      expect(a).toEqual({ value: 'a', names: ['ONLY_A', 'SHARED'] });
      expect(b).toEqual({ value: 'b', names: ['SHARED'] });
      expect(parent.value).toBeNull();
    } finally {
      delete process.env.STREAMER_TEST_PARENT_ONLY;
    }
  });

  it('builds the Lambda context inside the container, counting down from the function’s timeout', async () => {
    const lambda = host([spec('fn-context', { memoryMb: 256, timeoutSeconds: 30 })]);
    const context = resultOf(await lambda.invoke('fn-context', { action: 'context' }));
    expect(context).toMatchObject({
      functionName: 'fn-context',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn-context',
      memoryLimitInMB: '256',
      awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      logGroupName: '/aws/lambda/fn-context',
    });
    expect(context.remainingMs).toBeLessThanOrEqual(30_000);
    expect(context.remainingMs).toBeGreaterThan(0);
  });

  it('is reused warm: module state survives from one invocation to the next, with one cold start', async () => {
    const lambda = host([spec('fn-warm')]);
    expect(resultOf(await lambda.invoke('fn-warm', { action: 'count' }))).toEqual({ invocations: 1 });
    expect(resultOf(await lambda.invoke('fn-warm', { action: 'count' }))).toEqual({ invocations: 2 });
    expect(lambda.stats('fn-warm')).toMatchObject({ containers: 1, coldStarts: 1, initMs: [expect.any(Number)] });
  });

  it('counts its invocations and reports its threads\' CPU time, which grows while a handler computes', async () => {
    const lambda = host([spec('fn-cpu')]);
    await lambda.invoke('fn-cpu', { action: 'count' });
    const idle = lambda.stats('fn-cpu')!;
    await lambda.invoke('fn-cpu', { action: 'burn', ms: 300 });
    const busy = lambda.stats('fn-cpu')!;
    expect([idle.invocations, busy.invocations]).toEqual([1, 2]);
    if (process.platform !== 'linux') return expect(busy.threadCpuMs).toBeUndefined();
    expect(busy.threadCpuMs! - idle.threadCpuMs!).toBeGreaterThanOrEqual(10);
  });

  it('runs at a lower scheduling priority than the runtime (niceness 10 by default), so the emulated services run ahead of the functions', async () => {
    const lambda = host([spec('fn-default-nice'), spec('fn-nice-3')]);
    const tuned = host([spec('fn-nice-3')], { containerNiceness: 3 });
    if (process.platform !== 'linux') return;
    expect(resultOf(await lambda.invoke('fn-default-nice', { action: 'niceness' }))).toEqual({ nice: 10 });
    expect(resultOf(await tuned.invoke('fn-nice-3', { action: 'niceness' }))).toEqual({ nice: 3 });
  });

  it('supports callback-style handlers', async () => {
    const lambda = host([spec('fn-callback', { codeDir: join(FIXTURES, 'callback') })]);
    expect(await lambda.invoke('fn-callback', { n: 21 })).toMatchObject({ ok: true, result: { doubled: 42 } });
    expect(await lambda.invoke('fn-callback', { fail: true })).toMatchObject({ ok: false, error: { errorType: 'RangeError', errorMessage: 'callback failure' } });
  });

  it('reports a thrown error as Lambda’s error document and stays warm', async () => {
    const lambda = host([spec('fn-throw')]);
    const outcome = await lambda.invoke('fn-throw', { action: 'record-and-fail', dir: scratchDir() });
    expect(outcome).toMatchObject({ ok: false, error: { errorType: 'TypeError', errorMessage: 'probe failure', trace: expect.arrayContaining([expect.stringContaining('probe failure')]) } });
    expect(resultOf(await lambda.invoke('fn-throw', { action: 'count' }))).toEqual({ invocations: 2 });
  });

  it('reports a handler the bundle does not export as Runtime.HandlerNotFound', async () => {
    const lambda = host([spec('fn-no-handler', { handler: 'index.missing' })]);
    expect(await lambda.invoke('fn-no-handler', {})).toMatchObject({
      ok: false,
      error: { errorType: 'Runtime.HandlerNotFound', errorMessage: 'index.missing is undefined or not exported' },
    });
  });

  it('delivers what the function prints as whole lines, tagged with the function and the stream', async () => {
    const printed: Array<[string, string, string]> = [];
    const lambda = host([spec('fn-print')], { onOutput: (fn, stream, chunk) => printed.push([fn, stream, chunk]) });
    await lambda.invoke('fn-print', { action: 'print' });
    const text = (stream: string): string => printed.filter(([, s]) => s === stream).map(([, , chunk]) => chunk).join('');
    await waitFor(() => text('stdout').includes('split line\n') && text('stderr').includes('a plain stderr line\n'));
    expect(text('stdout')).toMatch(/^\{"level":"INFO","message":"from the probe".*\}\nsplit line\n$/);
    expect(printed.every(([fn, , chunk]) => fn === 'fn-print' && chunk.endsWith('\n'))).toBe(true);
  });
});

describe('concurrency', () => {
  it('runs concurrent invocations in parallel, each on its own container', async () => {
    const lambda = host([spec('fn-parallel')]);
    const dir = scratchDir();
    const [first, second] = await Promise.all([
      lambda.invoke('fn-parallel', { action: 'rendezvous', dir, me: 'first', other: 'second' }),
      lambda.invoke('fn-parallel', { action: 'rendezvous', dir, me: 'second', other: 'first' }),
    ]);
    expect([resultOf(first), resultOf(second)]).toEqual([{ met: true }, { met: true }]);
    expect(lambda.stats('fn-parallel')).toMatchObject({ containers: 2, coldStarts: 2 });
  });

  it('queues invocations past the local cap and runs them on the container that frees up', async () => {
    const lambda = host([spec('fn-capped')], { localConcurrencyCap: 1 });
    const dir = scratchDir();
    const holding = lambda.invoke('fn-capped', { action: 'hold', dir });
    await waitFor(() => existsSync(join(dir, 'holding')));
    const queued = lambda.invoke('fn-capped', { action: 'count' });
    expect(lambda.stats('fn-capped')).toMatchObject({ containers: 1, busy: 1 });
    writeFileSync(join(dir, 'release'), '');
    expect(resultOf(await holding)).toEqual({ released: true });
    expect(resultOf(await queued)).toEqual({ invocations: 2 });
    expect(lambda.stats('fn-capped')).toMatchObject({ containers: 1, coldStarts: 1 });
  });

  it('leaves a burst of short synchronous invocations to its warm container when it clears them before a cold start could be ready', async () => {
    const lambda = host([spec('fn-burst')]);
    await lambda.invoke('fn-burst', { action: 'count' });
    const burst = await Promise.all(Array.from({ length: 6 }, () => lambda.invoke('fn-burst', { action: 'count' })));
    expect(burst.map((outcome) => resultOf(outcome).invocations).sort()).toEqual([2, 3, 4, 5, 6, 7]);
    expect(lambda.stats('fn-burst')).toMatchObject({ containers: 1, coldStarts: 1 });
  });

  it('starts more containers for a burst its warm container would take longer to clear than a cold start', async () => {
    const lambda = host([spec('fn-slow-burst')]);
    await lambda.invoke('fn-slow-burst', { action: 'burn', ms: 300 });
    const burst = await Promise.all(Array.from({ length: 4 }, () => lambda.invoke('fn-slow-burst', { action: 'burn', ms: 300 })));
    burst.forEach((outcome) => resultOf(outcome));
    expect(lambda.stats('fn-slow-burst')!.coldStarts).toBeGreaterThan(1);
  });

  describe('on a machine whose CPU is saturated', () => {
    const saturated = { machineBusyShare: () => 1 };
    const beyondCores = availableParallelism() + 2;

    function holders(count: number): string[] {
      return Array.from({ length: count }, () => scratchDir());
    }
    const holding = (dirs: string[]): number => dirs.filter((dir) => existsSync(join(dir, 'holding'))).length;
    const release = (dirs: string[]): void => dirs.forEach((dir) => writeFileSync(join(dir, 'release'), ''));

    it('still starts a container for every queued asynchronous run whose containers only wait, as Lambda would', async () => {
      const lambda = host([spec('fn-waiting-jobs')], { ...saturated, localConcurrencyCap: beyondCores });
      const dirs = holders(beyondCores);
      for (const dir of dirs) lambda.invokeAsync('fn-waiting-jobs', { action: 'hold', dir });
      await waitFor(() => holding(dirs) === beyondCores, 4_000);
      expect(lambda.stats('fn-waiting-jobs')).toMatchObject({ containers: beyondCores, busy: beyondCores });
      release(dirs);
    });

    it('keeps synchronous callers to one container per core: more would only add contention', async () => {
      const lambda = host([spec('fn-sync-burst')], { ...saturated, localConcurrencyCap: beyondCores });
      const dirs = holders(beyondCores);
      const calls = dirs.map((dir) => lambda.invoke('fn-sync-burst', { action: 'hold', dir }));
      await waitFor(() => holding(dirs) === availableParallelism(), 4_000);
      // Several CPU samples (250 ms apart) pass with invocations waiting: none may add a container.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(lambda.stats('fn-sync-burst')).toMatchObject({ containers: availableParallelism() });
      expect(holding(dirs)).toBe(availableParallelism());
      release(dirs);
      expect((await Promise.all(calls)).map(resultOf)).toEqual(dirs.map(() => ({ released: true })));
    });
  });

  it('throttles a synchronous invoke past reserved concurrency with TooManyRequestsException, and keeps async events queued', async () => {
    const lambda = host([spec('fn-reserved', { reservedConcurrency: 1 })]);
    const dir = scratchDir();
    const holding = lambda.invoke('fn-reserved', { action: 'hold', dir });
    await waitFor(() => existsSync(join(dir, 'holding')));
    expect(await lambda.invoke('fn-reserved', { action: 'count' })).toMatchObject({
      ok: false,
      throttled: true,
      error: { errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' },
    });
    lambda.invokeAsync('fn-reserved', { action: 'record-and-fail', dir });
    expect(lambda.stats('fn-reserved')).toMatchObject({ containers: 1, busy: 1 });
    writeFileSync(join(dir, 'release'), '');
    await holding;
    await waitFor(() => readAttempts(dir).length === 1);
    await lambda.idle();
    expect(lambda.stats('fn-reserved')).toMatchObject({ containers: 1, coldStarts: 1 });
  });
});

function readAttempts(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'attempts'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('failures', () => {
  it('ends an invocation past its timeout as Sandbox.Timedout, stopping its code, and starts the next one cold', async () => {
    const lambda = host([spec('fn-spin', { timeoutSeconds: 0.3 })]);
    const dir = scratchDir();
    expect(await lambda.invoke('fn-spin', { action: 'spin', dir })).toMatchObject({
      ok: false,
      error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 0.30 seconds' },
    });
    expect(lambda.stats('fn-spin')).toMatchObject({ containers: 0 });
    // The loop rewrote this file while it ran; a stopped loop leaves it as it was.
    const spins = readFileSync(join(dir, 'spins'), 'utf8');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(readFileSync(join(dir, 'spins'), 'utf8')).toBe(spins);
    expect(resultOf(await lambda.invoke('fn-spin', { action: 'count' }))).toEqual({ invocations: 1 });
    expect(lambda.stats('fn-spin')).toMatchObject({ containers: 1, coldStarts: 2 });
  });

  it('fails the invocation of a container that crashes with Runtime.ExitError, and replaces the container', async () => {
    const lambda = host([spec('fn-crash')]);
    const uncaught = await lambda.invoke('fn-crash', { action: 'throw-later' });
    expect(uncaught).toMatchObject({ ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited with error: exit status 1' } });
    expect(uncaught.ok || uncaught.error.trace.join('\n')).toContain('escaped the handler');
    expect(await lambda.invoke('fn-crash', { action: 'exit' })).toMatchObject({
      ok: false,
      error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited with error: exit status 3' },
    });
    expect(resultOf(await lambda.invoke('fn-crash', { action: 'count' }))).toEqual({ invocations: 1 });
    expect(lambda.stats('fn-crash')).toMatchObject({ containers: 1, coldStarts: 3 });
  });

  it('retries a failed asynchronous invocation after the function’s delays, then discards it', async () => {
    const warnings: string[] = [];
    const log = createLogger('warn', 'lambda', (_level, line) => warnings.push(line));
    const lambda = host([spec('fn-retry', { asyncRetry: { maximumRetryAttempts: 1, delaysMs: [20] } })], { log });
    const dir = scratchDir();
    lambda.invokeAsync('fn-retry', { action: 'record-and-fail', dir });
    await waitFor(() => warnings.some((line) => line.includes('failed 2 times; event discarded')));
    await lambda.idle();
    const attempts = readAttempts(dir);
    expect(attempts).toHaveLength(2);
    expect(new Set(attempts).size).toBe(2);
  });

  it('refuses to start when a function’s bundle is missing', () => {
    const lambda = new LambdaContainers({ functions: [spec('fn-missing', { codeDir: join(FIXTURES, 'nowhere') })], localConcurrencyCap: 1 });
    expect(() => lambda.start()).toThrow(FunctionNotBuiltError);
    expect(() => lambda.start()).toThrow(/build the functions first/);
  });
});

describe('function names', () => {
  it('resolves a name, a partial ARN and a full ARN, with or without $LATEST, and nothing else', () => {
    const lambda = new LambdaContainers({ functions: [spec('streamer-local-router')], localConcurrencyCap: 1 });
    expect(lambda.resolve('streamer-local-router')).toBe('streamer-local-router');
    expect(lambda.resolve('streamer-local-router:$LATEST')).toBe('streamer-local-router');
    expect(lambda.resolve('000000000000:function:streamer-local-router')).toBe('streamer-local-router');
    expect(lambda.resolve('arn:aws:lambda:us-east-1:000000000000:function:streamer-local-router:$LATEST')).toBe('streamer-local-router');
    expect(lambda.resolve('arn:aws:lambda:eu-west-1:000000000000:function:streamer-local-router')).toBeUndefined();
    expect(lambda.resolve('111111111111:function:streamer-local-router')).toBeUndefined();
    expect(lambda.resolve('streamer-local-router:live')).toBeUndefined();
    expect(lambda.resolve('streamer-local-unknown')).toBeUndefined();
  });
});

describe('replacing a function’s code (watch mode)', () => {
  const versioned = (version: number) =>
    `exports.handler = async (event) => { await new Promise((r) => setTimeout(r, event.waitMs || 0)); return { version: ${version} }; };\n`;

  it('lets an invocation in flight finish on the old code, and runs the next one on the new', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'index.js'), versioned(1));
    const lambda = host([spec('fn-reloaded', { codeDir: dir })]);
    expect(resultOf(await lambda.invoke('fn-reloaded', {}))).toEqual({ version: 1 }); // one warm container now

    const inFlight = lambda.invoke('fn-reloaded', { waitMs: 500 });
    await waitFor(() => lambda.stats('fn-reloaded')!.busy === 1);
    writeFileSync(join(dir, 'index.js'), versioned(2));
    expect(lambda.replaceCode('fn-reloaded')).toEqual({ stopped: 0, finishing: 1 });

    expect(resultOf(await lambda.invoke('fn-reloaded', {}))).toEqual({ version: 2 });
    expect(resultOf(await inFlight)).toEqual({ version: 1 });
    // The old container is not reused: the container after it is the new code's.
    await waitFor(() => lambda.stats('fn-reloaded')!.containers === 1);
    expect(resultOf(await lambda.invoke('fn-reloaded', {}))).toEqual({ version: 2 });
    expect(lambda.stats('fn-reloaded')!.coldStarts).toBe(2);
  });

  it('stops idle containers at once', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'index.js'), versioned(1));
    const lambda = host([spec('fn-idle', { codeDir: dir })]);
    await Promise.all([lambda.invoke('fn-idle', { waitMs: 100 }), lambda.invoke('fn-idle', { waitMs: 100 })]);
    const warm = lambda.stats('fn-idle')!.containers;
    writeFileSync(join(dir, 'index.js'), versioned(2));
    expect(lambda.replaceCode('fn-idle')).toEqual({ stopped: warm, finishing: 0 });
    await waitFor(() => lambda.stats('fn-idle')!.containers === 0);
    expect(resultOf(await lambda.invoke('fn-idle', {}))).toEqual({ version: 2 });
  });
});
