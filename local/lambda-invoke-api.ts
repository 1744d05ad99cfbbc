/**
 * Lambda's `Invoke` API (`POST /2015-03-31/functions/{FunctionName}/invocations`),
 * as `@aws-sdk/client-lambda`'s `InvokeCommand` calls it:
 * `X-Amz-Invocation-Type: Event` answers 202 at once and runs the function
 * asynchronously; `RequestResponse` (the default) answers 200 with the
 * function's JSON result, plus `X-Amz-Function-Error: Unhandled` when it
 * failed; `DryRun` answers 204; a function whose reserved concurrency is in
 * use answers 429 `TooManyRequestsException`. `FunctionName` is a physical
 * name or an ARN.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LambdaContainers } from './lambda-containers';
import { BodyTooLargeError, readBody, sendAwsError } from './http-responses';

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

/** Lambda's payload quotas: 6 MB synchronous; asynchronous kept at the stricter historical 256 KB. */
const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024;
const ASYNC_PAYLOAD_LIMIT = 256 * 1024;

export function isInvokePath(pathname: string): boolean {
  return INVOKE_PATH.test(pathname);
}

export async function handleInvokeApi(
  functions: Pick<LambdaContainers, 'resolve' | 'invoke' | 'invokeAsync'>,
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
  region: string,
): Promise<void> {
  if (request.method !== 'POST') return sendAwsError(response, 405, 'MethodNotAllowedException', 'Invoke is POST only');
  const name = decodeURIComponent(INVOKE_PATH.exec(pathname)![1]!);
  const fn = functions.resolve(name);
  if (!fn) {
    return sendAwsError(response, 404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:${region}:000000000000:function:${name}`, { Type: 'User' });
  }
  const invocationType = headerOf(request, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (!['Event', 'RequestResponse', 'DryRun'].includes(invocationType)) {
    return sendAwsError(response, 400, 'InvalidParameterValueException', `Unsupported invocation type ${invocationType}`, { Type: 'User' });
  }
  const limit = invocationType === 'Event' ? ASYNC_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT;
  let raw: Buffer;
  try {
    raw = await readBody(request, limit);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return sendAwsError(response, 413, 'RequestTooLargeException', `Request must be smaller than ${limit} bytes for the ${invocationType} invocation type`, { Type: 'User' });
    }
    throw error;
  }
  let event: unknown = {};
  if (raw.length > 0) {
    try {
      event = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendAwsError(response, 400, 'InvalidRequestContentException', 'Could not parse request body into json', { Type: 'User' });
    }
  }

  if (invocationType === 'DryRun') {
    response.writeHead(204);
    return void response.end();
  }
  if (invocationType === 'Event') {
    functions.invokeAsync(fn, event);
    response.writeHead(202, { 'Content-Length': 0 });
    return void response.end();
  }
  const outcome = await functions.invoke(fn, event);
  if (!outcome.ok && outcome.throttled) {
    return sendAwsError(response, 429, 'TooManyRequestsException', outcome.error.errorMessage, {
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      Type: 'User',
    });
  }
  const body = JSON.stringify(outcome.ok ? (outcome.result ?? null) : outcome.error);
  response.writeHead(200, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'X-Amz-Executed-Version': '$LATEST',
    'x-amzn-RequestId': outcome.requestId,
    ...(!outcome.ok && { 'X-Amz-Function-Error': 'Unhandled' }),
  });
  response.end(body);
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
