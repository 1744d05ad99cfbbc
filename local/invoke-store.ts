/**
 * The Lambda runtime's per-invocation store (`globalThis.awslambda.InvokeStore`,
 * the contract of `@aws/lambda-invoke-store`), as the Node.js runtime provides
 * it when one execution environment runs invocations concurrently
 * (`AWS_LAMBDA_MAX_CONCURRENCY`). The function host runs invocations that way,
 * so it provides the store too: Powertools then keeps each invocation's log
 * keys, Lambda context and buffered metrics apart, and the AWS SDK reads the
 * invocation's trace id from it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The protected keys of the store (`InvokeStore.PROTECTED_KEYS`); the runtime fills them. */
const KEYS = {
  requestId: Symbol.for('_AWS_LAMBDA_REQUEST_ID'),
  xRayTraceId: Symbol.for('_AWS_LAMBDA_X_RAY_TRACE_ID'),
  tenantId: Symbol.for('_AWS_LAMBDA_TENANT_ID'),
  traceparent: Symbol.for('_AWS_LAMBDA_TRACEPARENT'),
  tracestate: Symbol.for('_AWS_LAMBDA_TRACESTATE'),
  baggage: Symbol.for('_AWS_LAMBDA_BAGGAGE'),
} as const;

const PROTECTED = new Set<PropertyKey>(Object.values(KEYS));

type Store = Record<PropertyKey, unknown>;

export class LocalInvokeStore {
  static readonly PROTECTED_KEYS = KEYS;
  private readonly als = new AsyncLocalStorage<Store>();

  /** Runs one invocation in its own context. */
  runInvocation<T>(requestId: string, fn: () => T): T {
    return this.als.run({ [KEYS.requestId]: requestId }, fn);
  }

  run<T>(context: Store, fn: () => T): T {
    return this.als.run(context, fn);
  }

  getContext(): Store | undefined {
    return this.als.getStore();
  }

  hasContext(): boolean {
    return this.als.getStore() !== undefined;
  }

  get(key: PropertyKey): unknown {
    return this.als.getStore()?.[key];
  }

  set(key: PropertyKey, value: unknown): void {
    if (PROTECTED.has(key)) throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    const store = this.als.getStore();
    if (!store) throw new Error('No context available');
    store[key] = value;
  }

  getRequestId(): string {
    return (this.get(KEYS.requestId) as string | undefined) ?? '-';
  }

  getXRayTraceId(): string | undefined {
    return this.get(KEYS.xRayTraceId) as string | undefined;
  }

  getTenantId(): string | undefined {
    return this.get(KEYS.tenantId) as string | undefined;
  }

  getTraceparent(): string | undefined {
    return this.get(KEYS.traceparent) as string | undefined;
  }

  getTracestate(): string | undefined {
    return this.get(KEYS.tracestate) as string | undefined;
  }

  getBaggage(): string | undefined {
    return this.get(KEYS.baggage) as string | undefined;
  }
}

/** Installs the store where the function bundles look for it; an existing one is kept. */
export function installInvokeStore(): LocalInvokeStore {
  const global = globalThis as { awslambda?: { InvokeStore?: unknown } };
  global.awslambda ??= {};
  if (!(global.awslambda.InvokeStore instanceof LocalInvokeStore)) global.awslambda.InvokeStore = new LocalInvokeStore();
  return global.awslambda.InvokeStore as LocalInvokeStore;
}
