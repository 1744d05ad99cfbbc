/**
 * What the Lambda container host (`lambda-containers.ts`) and a container's
 * bootstrap (`lambda-container-worker.ts`) say to each other across the
 * worker boundary, and the error document both report failures in. Kept in
 * its own module so the container bundle carries nothing of the host.
 */

/** The error document Lambda's Node.js runtime returns for a failed invocation. */
export interface LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** Facts about the function a container serves, fixed for its lifetime (`workerData`). */
export interface ContainerIdentity {
  readonly functionName: string;
  readonly functionArn: string;
  readonly memoryMb: number;
  /** Absolute path of the bundle to load (`<codeDir>/index.js` for handler `index.handler`). */
  readonly codeFile: string;
  /** The export to call (`handler` for `index.handler`). */
  readonly exportName: string;
  /** The `Handler` setting as configured, for Lambda's error messages. */
  readonly handlerSetting: string;
  /** The thread's scheduling niceness (0 = as the runtime's own threads), set before the bundle loads. */
  readonly niceness: number;
}

/** Host → container: run one invocation. */
export interface InvokeMessage {
  readonly type: 'invoke';
  readonly requestId: string;
  readonly event: unknown;
  /** Epoch milliseconds at which the host times the invocation out. */
  readonly deadline: number;
}

/** Container → host. */
export type ContainerMessage =
  | {
      readonly type: 'ready';
      readonly initMs: number;
      /** The container thread's kernel thread id (Linux), so the host can read its CPU time; absent elsewhere. */
      readonly osThreadId?: number;
    }
  | { readonly type: 'init-failed'; readonly error: LambdaErrorPayload }
  | {
      readonly type: 'result';
      readonly requestId: string;
      /** The handler's result as Lambda serialises it (JSON); undefined when it returned nothing. */
      readonly json: string | undefined;
    }
  | { readonly type: 'error'; readonly requestId: string; readonly error: LambdaErrorPayload };

/** Lambda's error document for anything thrown, as the Node.js runtime builds it. */
export function errorPayload(error: unknown): LambdaErrorPayload {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    };
  }
  return { errorType: 'Error', errorMessage: typeof error === 'string' ? error : JSON.stringify(error), trace: [] };
}
