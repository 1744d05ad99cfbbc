/**
 * The Lambda service, emulated: each function runs in its own containers,
 * the very bundles (`<codeDir>/index.js`) that deploy to AWS.
 *
 * A container is a `worker_threads` Worker whose `process.env` is exactly
 * the function's environment (nothing of the runtime's own), with its own
 * module instance and event loop. It loads the bundle once (a cold start)
 * and then serves ONE invocation at a time, as a Lambda execution
 * environment does; an idle container is reused (warm). When all are busy a
 * new one starts, up to the function's reserved concurrency, else the local
 * cap. Past reserved concurrency a synchronous invoke is throttled (429
 * `TooManyRequestsException`, as Lambda answers); past the local cap it
 * waits, since that cap is this machine's limit, not the function's.
 * Asynchronous (`Event`) invocations wait in Lambda's internal queue either
 * way and are retried with delays when they fail.
 *
 * An invocation past its timeout ends as `Sandbox.Timedout` and its
 * container is terminated, so its code really stops; a container that dies
 * (uncaught exception, `process.exit`) fails its invocation with
 * `Runtime.ExitError`. Either way the next invocation gets a fresh
 * container.
 *
 * Workers rather than child processes: a worker starts in milliseconds and
 * shares the Node binary's memory, so tens of containers stay cheap, and
 * `terminate()` stops even a busy loop. What a worker cannot isolate is
 * process-wide state (`process.chdir`, signals, native addons); the bundles
 * use none of it.
 *
 * @example
 * ```ts
 * const lambda = new LambdaContainers({ functions: [routerSpec], localConcurrencyCap: 10 });
 * lambda.start();
 * const outcome = await lambda.invoke('streamer-local-router', event);
 * await lambda.stop();
 * ```
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import type { ContainerIdentity, ContainerMessage, InvokeMessage, LambdaErrorPayload } from './lambda-container-protocol';
import { type Logger, silentLogger } from './log';

/** One function as the Lambda service knows it: what a deployment manifest says of it. */
export interface LambdaFunctionSpec {
  /** Physical name, e.g. `streamer-local-router`. */
  readonly name: string;
  /** `arn:aws:lambda:<region>:<account>:function:<name>`. */
  readonly arn: string;
  /** Absolute folder holding the bundle. */
  readonly codeDir: string;
  /** `index.handler` → `<codeDir>/index.js`, export `handler`. */
  readonly handler: string;
  /** EXACTLY the container's environment: nothing else is visible to the function. */
  readonly environment: Readonly<Record<string, string>>;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Most containers this function may run at once; undefined = unreserved. */
  readonly reservedConcurrency?: number;
  readonly asyncRetry: AsyncRetryPolicy;
}

/** How Lambda retries a failed asynchronous invocation. */
export interface AsyncRetryPolicy {
  /** Lambda's default for asynchronous invocations is 2 retries. */
  readonly maximumRetryAttempts: number;
  /** Delay before each retry; Lambda waits about 1 minute, then 2 minutes. */
  readonly delaysMs: readonly number[];
}

/**
 * Containers run at this niceness unless told otherwise. On AWS a function
 * never shares its CPU with API Gateway, DynamoDB or the Lambda service; here
 * they are this process's main thread (and DynamoDB Local), so the container
 * threads yield to them: with dozens of containers runnable on two cores an
 * equal share starved the gateway and the AWS fronts every function waits on
 * (CFS gives a nice-10 thread about a ninth of a nice-0 thread's weight).
 */
export const DEFAULT_CONTAINER_NICENESS = 10;

/** Lambda's defaults for asynchronous invocations. */
export const LAMBDA_DEFAULT_ASYNC_RETRY: AsyncRetryPolicy = { maximumRetryAttempts: 2, delaysMs: [60_000, 120_000] };

export type OutputStream = 'stdout' | 'stderr';

export interface LambdaContainersOptions {
  readonly functions: readonly LambdaFunctionSpec[];
  /** Most containers per function on this machine (unreserved functions); invocations past it wait. */
  readonly localConcurrencyCap: number;
  /** Scheduling niceness (0–19) of every container thread. @default DEFAULT_CONTAINER_NICENESS */
  readonly containerNiceness?: number;
  /** Containers initialising at once per function; default: this machine's cores. */
  readonly maxConcurrentColdStarts?: number;
  readonly log?: Logger;
  /**
   * Receives what the functions print, as CloudWatch Logs would: whole lines (each ending in `\n`),
   * one chunk per read. Default: the runtime's own stdout/stderr.
   */
  readonly onOutput?: (fnName: string, stream: OutputStream, chunk: string) => void;
  /** The container bootstrap script. @default `defaultContainerScript()` */
  readonly containerScript?: string;
  /**
   * The share (0–1) of the machine's cores that were busy since the previous call, sampled every
   * 250 ms to decide whether more containers would only add contention. @default from `os.cpus()`
   */
  readonly machineBusyShare?: () => number;
}

/** What one invocation came to, as the Invoke API reports it. */
export type InvocationOutcome =
  | { readonly ok: true; readonly result: unknown; readonly requestId: string }
  | {
      readonly ok: false;
      readonly error: LambdaErrorPayload;
      readonly requestId: string;
      /** Refused before running: reserved concurrency exhausted (HTTP 429 at the Invoke API). */
      readonly throttled?: boolean;
    };

/** What a function's containers have done so far (tests, benchmarks). */
export interface FunctionContainerStats {
  /** Containers alive now. */
  readonly containers: number;
  /** Containers serving an invocation (or starting for one) now. */
  readonly busy: number;
  readonly coldStarts: number;
  /** Init phase of each cold start (loading the bundle, inside the container), in milliseconds, oldest first. */
  readonly initMs: readonly number[];
  /** Each cold start as the host sees it: thread start, bootstrap and init, in milliseconds, oldest first. */
  readonly readyMs: readonly number[];
  /** Invocations that ran to a result or an error. */
  readonly invocations: number;
  /**
   * CPU time of the function's container threads (user + system, from
   * `/proc/self/task/<tid>/stat`, 10 ms ticks), live and ended containers;
   * `undefined` where the kernel does not say (not Linux).
   */
  readonly threadCpuMs: number | undefined;
}

/** A function's bundle (or the container bootstrap) is missing or has no handler: build first. */
export class FunctionNotBuiltError extends Error {
  override readonly name = 'FunctionNotBuiltError';
}

/** Lambda gives on-demand init 10 s of its own before the invocation's timeout applies to it. */
const INIT_LIMIT_MS = 10_000;

/** Where `scripts/build.mjs` puts the container bootstrap: beside this code when bundled, else in `dist/local/`. */
export function defaultContainerScript(): string {
  const bundled = __dirname.endsWith(join('dist', 'local'));
  return bundled ? join(__dirname, 'lambda-container.js') : resolve(__dirname, '..', 'dist', 'local', 'lambda-container.js');
}

interface QueuedInvocation {
  readonly event: unknown;
  /** `performance.now()` when it was queued. */
  readonly queuedAt: number;
  readonly settle: (outcome: InvocationOutcome) => void;
  /** An `Event` invocation (a queued job's run), not a caller waiting on the reply. */
  readonly async?: boolean;
}

interface AsyncEvent {
  readonly fn: string;
  readonly event: unknown;
  readonly attempt: number;
}

interface FunctionPool {
  readonly spec: LambdaFunctionSpec;
  readonly identity: ContainerIdentity;
  readonly containers: Set<Container>;
  readonly idle: Container[];
  readonly queue: QueuedInvocation[];
  busy: number;
  /** Containers initialising, not yet able to take an invocation. */
  starting: number;
  coldStarts: number;
  readonly initMs: number[];
  readonly readyMs: number[];
  invocations: number;
  /** CPU of containers that have ended, last read while they lived. */
  endedCpuMs: number;
  /** Bumped by `replaceCode`: a container of an older generation is retired instead of reused. */
  generation: number;
  /** The pool's thread CPU at the last sample, to tell CPU-bound containers from waiting ones. */
  lastCpuMs?: number;
  /** Whether, over the last sample, its busy containers mostly waited (timers, I/O) rather than computed. */
  mostlyWaiting: boolean;
  /** Moving average of its invocations' duration, in milliseconds; undefined before the first one ends. */
  durationMs?: number;
  /** A pump scheduled for when a cold start would pay off (see `worthAColdStart`). */
  scaleOutTimer?: NodeJS.Timeout;
}

const CPU_SAMPLE_MS = 250;
/** Share of the cores above which the process counts as saturated. */
const CPU_SATURATED = 0.85;
/** Below this share of a core per busy container, a function's containers count as waiting, not computing. */
const WAITING_SHARE = 0.5;

/** The Lambda service for a set of functions. */
export class LambdaContainers {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly log: Logger;
  private readonly script: string;
  private stopped = false;
  private readonly cores = Math.max(1, availableParallelism());
  private cpuSaturated = false;
  private cpuSampler?: NodeJS.Timeout;

  constructor(private readonly options: LambdaContainersOptions) {
    this.log = options.log ?? silentLogger;
    this.script = options.containerScript ?? defaultContainerScript();
    for (const spec of options.functions) {
      this.pools.set(spec.name, {
        spec,
        identity: { ...identityOf(spec), niceness: options.containerNiceness ?? DEFAULT_CONTAINER_NICENESS },
        containers: new Set(),
        idle: [],
        queue: [],
        busy: 0,
        starting: 0,
        coldStarts: 0,
        invocations: 0,
        endedCpuMs: 0,
        initMs: [],
        readyMs: [],
        generation: 0,
        mostlyWaiting: false,
      });
    }
  }

  /**
   * Checks every bundle is where its spec says, so a missing build fails at start. Starts no
   * container: as on Lambda, the first invocation of each function is a cold start.
   */
  start(): void {
    this.sampleCpu();
    if (!existsSync(this.script)) {
      throw new FunctionNotBuiltError(`${this.script} is missing: build the local runtime first (npm run build)`);
    }
    for (const { identity } of this.pools.values()) {
      if (!existsSync(identity.codeFile)) {
        throw new FunctionNotBuiltError(`${identity.codeFile} is missing: build the functions first (node scripts/build.mjs --functions-only)`);
      }
    }
  }

  /**
   * Maps an Invoke API `FunctionName` to a function's physical name: a name, a partial ARN
   * (`<account>:function:<name>`) or a full ARN, each with an optional `:$LATEST` qualifier
   * (there are no published versions or aliases locally).
   */
  resolve(functionNameOrArn: string): string | undefined {
    const parts = functionNameOrArn.split(':');
    const at = parts.indexOf('function');
    const name = at >= 0 ? parts[at + 1] : parts[0];
    const qualifier = at >= 0 ? parts[at + 2] : parts[1];
    const tooMany = parts.length > (at >= 0 ? at + 3 : 2);
    if (name === undefined || tooMany || (qualifier !== undefined && qualifier !== '$LATEST')) return undefined;
    const spec = this.pools.get(name)?.spec;
    if (!spec || at < 0) return spec?.name;
    // The region and account of an ARN must be the function's own.
    const given = parts.slice(0, at + 2);
    const own = spec.arn.split(':');
    const matches = at === 1 ? given[0] === own[4] : at === 5 && given.every((part, i) => part === own[i]);
    return matches ? spec.name : undefined;
  }

  /** The spec a function was registered with. */
  specOf(functionName: string): LambdaFunctionSpec | undefined {
    return this.pools.get(functionName)?.spec;
  }

  /**
   * New code for a function (watch mode: its bundle was rebuilt). Idle
   * containers stop now; busy ones finish their invocation on the code they
   * loaded, then stop instead of being reused; every container started from
   * now on loads the bundle afresh. Connections and queued invocations are
   * untouched. Returns how many containers were stopped now and how many
   * are still finishing on the old code.
   */
  replaceCode(functionName: string): { stopped: number; finishing: number } {
    const pool = this.pools.get(functionName);
    if (!pool) throw new Error(`replaceCode: no function ${functionName}`);
    pool.generation += 1;
    const idle = pool.idle.splice(0);
    for (const container of idle) void container.terminate();
    return { stopped: idle.length, finishing: pool.containers.size - idle.length };
  }

  /** Counters of a function's containers. */
  stats(functionName: string): FunctionContainerStats | undefined {
    const pool = this.pools.get(functionName);
    if (!pool) return undefined;
    const live = [...pool.containers].map((container) => container.threadCpuMs());
    const threadCpuMs = live.some((ms) => ms === undefined) ? undefined : live.reduce<number>((sum, ms) => sum + (ms ?? 0), pool.endedCpuMs);
    return {
      containers: pool.containers.size,
      busy: pool.busy,
      coldStarts: pool.coldStarts,
      initMs: [...pool.initMs],
      readyMs: [...pool.readyMs],
      invocations: pool.invocations,
      threadCpuMs,
    };
  }

  /** A synchronous (`RequestResponse`) invocation, by physical name or ARN. */
  invoke(functionNameOrArn: string, event: unknown): Promise<InvocationOutcome> {
    const pool = this.poolOf(functionNameOrArn);
    if (!pool) return Promise.resolve(failed('ResourceNotFoundException', `Function not found: ${functionNameOrArn}`));
    if (this.stopped) return Promise.resolve(failed('ServiceException', 'The local runtime is stopping'));
    const reserved = pool.spec.reservedConcurrency;
    if (reserved !== undefined && pool.busy >= reserved) {
      this.log.warn(`${pool.spec.name} throttled: reserved concurrency ${reserved} in use`);
      return Promise.resolve({ ...failed('TooManyRequestsException', 'Rate Exceeded.'), throttled: true });
    }
    const run = new Promise<InvocationOutcome>((settle) => pool.queue.push({ event, settle, queuedAt: performance.now() }));
    this.pump(pool);
    return run;
  }

  /** An asynchronous (`Event`) invocation: accepted at once, run when the function has a free container. */
  invokeAsync(functionNameOrArn: string, event: unknown): void {
    const pool = this.poolOf(functionNameOrArn);
    if (!pool) {
      this.log.warn(`async invocation of unknown function ${functionNameOrArn} dropped`);
      return;
    }
    this.enqueueAsync({ fn: pool.spec.name, event, attempt: 1 });
  }

  /**
   * Resolves once no invocation is running (tests). Retries waiting on a timer do not count, nor
   * do events held back by a reserved concurrency of zero.
   */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Stops accepting work, waits (bounded) for running invocations, then ends every container. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    clearInterval(this.cpuSampler);
    for (const pool of this.pools.values()) clearTimeout(pool.scaleOutTimer);
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const pool of this.pools.values()) {
      for (const waiting of pool.queue.splice(0)) waiting.settle(failed('ServiceException', 'The local runtime is stopping'));
    }
    await Promise.race([Promise.allSettled([...this.inFlight]), delay(graceMs)]);
    const all = [...this.pools.values()].flatMap((pool) => [...pool.containers]);
    await Promise.all(all.map((container) => container.terminate()));
  }

  private poolOf(functionNameOrArn: string): FunctionPool | undefined {
    const name = this.resolve(functionNameOrArn);
    return name === undefined ? undefined : this.pools.get(name);
  }

  private enqueueAsync(queued: AsyncEvent): void {
    if (this.stopped) return;
    const pool = this.pools.get(queued.fn)!;
    pool.queue.push({
      event: queued.event,
      async: true,
      queuedAt: performance.now(),
      settle: (outcome) => outcome.ok || this.scheduleAsyncRetry(queued, outcome.error),
    });
    this.pump(pool);
  }

  /**
   * Hands queued invocations to idle containers, and starts containers while
   * invocations wait and the function may have more. A starting container is
   * bound to no invocation: whichever container is free first takes the next
   * one, so a burst is served by warm containers as they free up instead of
   * waiting on cold starts it did not need. At most `maxConcurrentColdStarts`
   * containers initialise at once (this machine's cores): Lambda starts its
   * containers on a fleet, here they all share these cores.
   */
  private pump(pool: FunctionPool): void {
    while (!this.stopped && pool.queue.length > 0 && pool.idle.length > 0) {
      const container = pool.idle.pop()!;
      const next = pool.queue.shift()!;
      pool.busy += 1;
      const run = this.runOn(pool, container, next.event).then((outcome) => {
        // The container is free before the caller hears back, so a caller that invokes again at once finds it warm.
        pool.busy -= 1;
        this.makeIdle(pool, container);
        this.pump(pool);
        next.settle(outcome);
      });
      this.track(run);
    }
    const capacity = Math.min(pool.spec.reservedConcurrency ?? Number.POSITIVE_INFINITY, this.options.localConcurrencyCap);
    const coldStartLimit = this.options.maxConcurrentColdStarts ?? Math.max(1, availableParallelism());
    while (
      !this.stopped &&
      pool.queue.length > pool.starting &&
      pool.containers.size < capacity &&
      pool.starting < coldStartLimit &&
      this.mayScaleOut(pool) &&
      this.worthAColdStart(pool)
    ) {
      this.startContainer(pool);
    }
  }

  /**
   * Whether a new container would serve the waiting invocations sooner than
   * the warm ones will. Lambda starts a container for every concurrent
   * request, on its own hardware; here a cold start takes a core for tens of
   * milliseconds from everything else, so a burst of short synchronous
   * invocations (a client's eight echoes at once) is left to the warm
   * containers when they will clear it before a cold one could be ready
   * (measured: the paced sync echo started 4–6 containers during a run, each
   * a latency spike for every connection). The first container, queued jobs'
   * runs (asynchronous: long, and their leases are running) and a pool whose
   * durations are not known yet start at once; otherwise an invocation waits
   * at most one cold start's time before another container starts for it.
   */
  private worthAColdStart(pool: FunctionPool): boolean {
    if (pool.containers.size === 0 || pool.durationMs === undefined) return true;
    const uncovered = pool.queue.slice(pool.starting);
    if (uncovered.some((waiting) => waiting.async === true)) return true;
    const recent = pool.readyMs.slice(-5).sort((a, b) => a - b);
    const coldStartMs = recent[Math.floor(recent.length / 2)];
    if (coldStartMs === undefined) return true;
    const oldestWaitedMs = performance.now() - uncovered[0]!.queuedAt;
    const drainMs = (uncovered.length * pool.durationMs) / Math.max(1, pool.containers.size - pool.starting);
    if (oldestWaitedMs + drainMs >= coldStartMs) return true;
    // Not yet: look again when the oldest will have waited as long as a cold start takes.
    pool.scaleOutTimer ??= setTimeout(() => {
      pool.scaleOutTimer = undefined;
      this.pump(pool);
    }, Math.max(1, Math.ceil(coldStartMs - oldestWaitedMs)));
    pool.scaleOutTimer.unref();
    return false;
  }

  /**
   * Whether the function may add a container now. Up to the machine's cores
   * it always may; beyond that only while the machine has CPU to spare:
   * Lambda adds containers on a fleet, here every container shares these
   * cores, so past saturation another one only adds contention (measured: a
   * sync echo's throughput fell from 813 to 251 req/s going from 4 to 32
   * router containers on two cores). Asynchronous invocations (queued jobs'
   * runs) of a function whose busy containers mostly wait (a long job's timers
   * and I/O: under half a core each) still scale out while saturated, as
   * Lambda would: holding them back would not free the CPU, only let the
   * jobs' leases run out unstarted. Synchronous callers (the router under a
   * burst) do not: their containers wait on this process, not on timers, and
   * more of them only add contention.
   */
  private mayScaleOut(pool: FunctionPool): boolean {
    if (pool.containers.size < this.cores || !this.cpuSaturated) return true;
    return pool.mostlyWaiting && pool.queue.some((waiting) => waiting.async === true);
  }

  /** Whether `pool`'s busy containers used under `WAITING_SHARE` of a core each over the last `elapsedMs`. */
  private sampleWaiting(pool: FunctionPool, elapsedMs: number): void {
    const live = [...pool.containers].map((container) => container.threadCpuMs());
    if (live.some((ms) => ms === undefined)) {
      pool.mostlyWaiting = false;
      pool.lastCpuMs = undefined;
      return;
    }
    const cpuMs = live.reduce<number>((sum, ms) => sum + (ms ?? 0), pool.endedCpuMs);
    const previous = pool.lastCpuMs;
    pool.lastCpuMs = cpuMs;
    pool.mostlyWaiting = previous !== undefined && pool.busy > 0 && (cpuMs - previous) / (pool.busy * elapsedMs) < WAITING_SHARE;
  }

  /**
   * Every 250 ms: whether the machine's cores were more than 85 % busy (all
   * processes: DynamoDB Local's Java and the containers compete for the same cores).
   */
  private sampleCpu(): void {
    if (this.cpuSampler) return;
    const busyShare = this.options.machineBusyShare ?? machineBusyShareSampler();
    // Judged at once too, so a burst in the first 250 ms is held to the cores like any other.
    this.cpuSaturated = busyShare() > CPU_SATURATED;
    let lastAt = performance.now();
    this.cpuSampler = setInterval(() => {
      const at = performance.now();
      this.cpuSaturated = busyShare() > CPU_SATURATED;
      for (const pool of this.pools.values()) {
        // Only a function with invocations waiting needs the judgement (it reads each container's /proc entry).
        if (pool.queue.length > 0) this.sampleWaiting(pool, at - lastAt);
        else pool.lastCpuMs = undefined;
      }
      lastAt = at;
      // Invocations held back while the CPU was saturated start now, not only when a container frees up.
      for (const pool of this.pools.values()) if (pool.queue.length > 0 && this.mayScaleOut(pool)) this.pump(pool);
    }, CPU_SAMPLE_MS);
    this.cpuSampler.unref();
  }

  /** A container free for the next invocation, unless it runs code `replaceCode` superseded. */
  private makeIdle(pool: FunctionPool, container: Container): void {
    if (!container.alive || this.stopped) return;
    if (container.generation !== pool.generation) void container.terminate();
    else pool.idle.push(container);
  }

  private track(run: Promise<unknown>): void {
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  private startContainer(pool: FunctionPool): void {
    const container = new Container(this.script, pool.identity, pool.spec, this.options.onOutput ?? printOutput, pool.generation);
    pool.containers.add(container);
    pool.coldStarts += 1;
    pool.starting += 1;
    container.exited.then(() => {
      pool.endedCpuMs += container.threadCpuMs() ?? 0;
      pool.containers.delete(container);
      const at = pool.idle.indexOf(container);
      if (at >= 0) pool.idle.splice(at, 1);
    });
    const init = withTimeout(container.ready, INIT_LIMIT_MS + pool.spec.timeoutSeconds * 1000).then(async (result) => {
      pool.starting -= 1;
      if (result !== undefined && result.ok) {
        pool.initMs.push(result.initMs);
        pool.readyMs.push(result.readyMs);
        this.log.debug(`${pool.spec.name} cold start: ready in ${result.readyMs.toFixed(1)} ms, init ${result.initMs.toFixed(1)} ms`);
        this.makeIdle(pool, container);
      } else {
        await container.terminate();
        // As on Lambda, a failed init fails the invocation that was waiting for it.
        const error = result?.error ?? { errorType: 'Sandbox.Timedout', errorMessage: `Init timed out after ${INIT_LIMIT_MS / 1000} seconds`, trace: [] };
        const waiting = pool.queue.shift();
        this.log.warn(`${pool.spec.name} init failed: ${error.errorType}: ${error.errorMessage}`);
        waiting?.settle({ ok: false, requestId: randomUUID(), error });
      }
      this.pump(pool);
    });
    this.track(init);
  }

  private async runOn(pool: FunctionPool, container: Container, event: unknown): Promise<InvocationOutcome> {
    const { name, timeoutSeconds } = pool.spec;
    const requestId = randomUUID();
    const timedOut: LambdaErrorPayload = {
      errorType: 'Sandbox.Timedout',
      errorMessage: `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
      trace: [],
    };
    const started = Date.now();
    const startedAt = performance.now();
    const deadline = started + timeoutSeconds * 1000;
    const reply = await withTimeout(container.invoke({ type: 'invoke', requestId, event, deadline }), deadline - Date.now());
    let outcome: InvocationOutcome;
    if (reply === undefined) {
      // Lambda stops a timed-out function's code: ending the worker is the only way to stop a busy loop.
      await container.terminate();
      outcome = { ok: false, requestId, error: timedOut };
    } else if (reply.type === 'result') {
      outcome = { ok: true, requestId, result: reply.json === undefined ? undefined : (JSON.parse(reply.json) as unknown) };
    } else {
      outcome = { ok: false, requestId, error: reply.error };
    }
    pool.invocations += 1;
    const tookMs = performance.now() - startedAt;
    pool.durationMs = pool.durationMs === undefined ? tookMs : pool.durationMs * 0.8 + tookMs * 0.2;
    const took = Math.round(tookMs);
    if (outcome.ok) this.log.debug(`${name} ${requestId} ok in ${took} ms`);
    else this.log.warn(`${name} ${requestId} failed in ${took} ms: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
    return outcome;
  }

  private scheduleAsyncRetry(failedEvent: AsyncEvent, error: LambdaErrorPayload): void {
    if (this.stopped) return;
    const policy = this.pools.get(failedEvent.fn)!.spec.asyncRetry;
    if (failedEvent.attempt > policy.maximumRetryAttempts) {
      this.log.warn(`${failedEvent.fn} async invocation failed ${failedEvent.attempt} times; event discarded (${error.errorType}: ${error.errorMessage})`);
      return;
    }
    const wait = policy.delaysMs[failedEvent.attempt - 1] ?? policy.delaysMs.at(-1) ?? 0;
    this.log.warn(`${failedEvent.fn} async invocation failed (${error.errorType}: ${error.errorMessage}); Lambda retries in ${Math.round(wait / 1000)} s`);
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.enqueueAsync({ ...failedEvent, attempt: failedEvent.attempt + 1 });
    }, wait);
    timer.unref();
    this.retryTimers.add(timer);
  }
}

type InitResult = { readonly ok: true; readonly initMs: number; readonly readyMs: number } | { readonly ok: false; readonly error: LambdaErrorPayload };
type InvokeReply = Extract<ContainerMessage, { type: 'result' | 'error' }>;

/** One execution environment: a worker thread running the container bootstrap around one bundle. */
class Container {
  readonly ready: Promise<InitResult>;
  readonly exited: Promise<void>;
  alive = true;
  private readonly worker: Worker;
  private settleInit?: (result: InitResult) => void;
  private current?: { readonly requestId: string; readonly settle: (reply: InvokeReply) => void };
  private uncaught?: Error;
  private readonly createdAt = performance.now();
  private osThreadId?: number;
  private lastCpuMs = 0;

  constructor(
    script: string,
    identity: ContainerIdentity,
    spec: LambdaFunctionSpec,
    onOutput: NonNullable<LambdaContainersOptions['onOutput']>,
    /** The pool's code generation when it started (`replaceCode`). */
    readonly generation: number,
  ) {
    this.ready = new Promise((settle) => (this.settleInit = settle));
    this.worker = new Worker(script, {
      name: spec.name,
      workerData: identity,
      // Node copies this object into the worker's process.env: the function sees its own variables only.
      env: { ...spec.environment },
      stdout: true,
      stderr: true,
      // The nearest a thread comes to Lambda's memory setting: a heap that cannot outgrow it.
      resourceLimits: { maxOldGenerationSizeMb: spec.memoryMb },
    });
    // Like a frozen Lambda environment, an idle container holds nothing open: stop() ends them all.
    this.worker.unref();
    forwardLines(this.worker.stdout, (chunk) => onOutput(spec.name, 'stdout', chunk));
    forwardLines(this.worker.stderr, (chunk) => onOutput(spec.name, 'stderr', chunk));
    this.worker.on('message', (message: ContainerMessage) => this.receive(message));
    this.worker.on('error', (error) => (this.uncaught = error));
    this.exited = new Promise((resolveExit) => {
      this.worker.once('exit', (code) => {
        this.alive = false;
        const error = this.exitError(code);
        this.settleInit?.({ ok: false, error });
        this.current?.settle({ type: 'error', requestId: this.current.requestId, error });
        this.current = undefined;
        resolveExit();
      });
    });
  }

  /** Sends one invocation; resolves with its result or error, or the container's death. */
  invoke(message: InvokeMessage): Promise<InvokeReply> {
    return new Promise((settle) => {
      this.current = { requestId: message.requestId, settle };
      this.worker.postMessage(message);
    });
  }

  /** The thread's CPU time so far (its last reading once it has ended); `undefined` when the kernel does not say. */
  threadCpuMs(): number | undefined {
    if (this.osThreadId === undefined) return undefined;
    if (!this.alive) return this.lastCpuMs;
    try {
      // Fields after the parenthesised name: state is field 3, utime 14 and stime 15 (proc(5)), in USER_HZ (100) ticks.
      const stat = readFileSync(`/proc/self/task/${this.osThreadId}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      this.lastCpuMs = (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      // Ended between the check and the read: keep the last reading.
    }
    return this.lastCpuMs;
  }

  async terminate(): Promise<void> {
    if (this.alive) await this.worker.terminate();
    await this.exited;
  }

  private receive(message: ContainerMessage): void {
    if (message.type === 'ready') {
      this.osThreadId = message.osThreadId;
      this.settleInit?.({ ok: true, initMs: message.initMs, readyMs: performance.now() - this.createdAt });
    } else if (message.type === 'init-failed') {
      this.settleInit?.({ ok: false, error: message.error });
    } else if (this.current?.requestId === message.requestId) {
      const { settle } = this.current;
      this.current = undefined;
      settle(message);
    }
    if (message.type !== 'result' && message.type !== 'error') this.settleInit = undefined;
  }

  /** Lambda's report when the runtime process dies under an invocation. */
  private exitError(code: number): LambdaErrorPayload {
    const outOfMemory = (this.uncaught as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
    return {
      errorType: outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError',
      errorMessage: `Runtime exited with error: exit status ${code}`,
      trace: this.uncaught ? (this.uncaught.stack ?? String(this.uncaught)).split('\n') : [],
    };
  }
}

/** The file a function's containers load (`index.handler` → `<codeDir>/index.js`). */
export function codeFileOf(spec: LambdaFunctionSpec): string {
  return identityOf(spec).codeFile;
}

/** `index.handler` → `<codeDir>/index.js` and `handler`; `src/app.main` → `<codeDir>/src/app.js` and `main`. */
function identityOf(spec: LambdaFunctionSpec): Omit<ContainerIdentity, 'niceness'> {
  const slash = spec.handler.lastIndexOf('/');
  const dot = spec.handler.indexOf('.', slash + 1);
  if (dot <= slash + 1 || dot === spec.handler.length - 1) {
    throw new FunctionNotBuiltError(`${spec.name}: handler "${spec.handler}" is not <file>.<export>`);
  }
  return {
    functionName: spec.name,
    functionArn: spec.arn,
    memoryMb: spec.memoryMb,
    codeFile: join(spec.codeDir, `${spec.handler.slice(0, dot)}.js`),
    exportName: spec.handler.slice(dot + 1),
    handlerSetting: spec.handler,
  };
}

/** Delivers a worker stream as whole lines: a line split across reads is held until its end arrives. */
function forwardLines(stream: Readable, deliver: (chunk: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      partial += text;
      return;
    }
    deliver(partial + text.slice(0, end + 1));
    partial = text.slice(end + 1);
  });
  stream.on('end', () => {
    if (partial !== '') deliver(`${partial}\n`);
    partial = '';
  });
}

function printOutput(_fn: string, stream: OutputStream, chunk: string): void {
  (stream === 'stderr' ? process.stderr : process.stdout).write(chunk);
}

function failed(errorType: string, errorMessage: string): InvocationOutcome {
  return { ok: false, requestId: randomUUID(), error: { errorType, errorMessage, trace: [] } };
}

/** The promise's value, or undefined once `ms` have passed. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolveExpired) => (timer = setTimeout(() => resolveExpired(undefined), Math.max(0, ms))));
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolveDelay) => setTimeout(resolveDelay, ms).unref());
}

/** The machine's busy share of all cores since the previous call (all processes: DynamoDB Local's Java and the containers share them). */
function machineBusyShareSampler(): () => number {
  const totals = (): { busy: number; all: number } =>
    cpus().reduce(
      (sum, cpu) => {
        const all = cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq + cpu.times.idle;
        return { busy: sum.busy + all - cpu.times.idle, all: sum.all + all };
      },
      { busy: 0, all: 0 },
    );
  let last = totals();
  return () => {
    const now = totals();
    const all = now.all - last.all;
    const share = all > 0 ? (now.busy - last.busy) / all : 0;
    last = now;
    return share;
  };
}
