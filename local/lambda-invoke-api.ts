/**
 * Lambda's `Invoke` API (`POST /2015-03-31/functions/{FunctionName}/invocations`),
 * as `@aws-sdk/client-lambda`'s `InvokeCommand` calls it:
 * `X-Amz-Invocation-Type: Event` answers 202 at once and runs the function
 * asynchronously; `RequestResponse` (the default) answers 200 with the
 * function's JSON result, plus `X-Amz-Function-Error: Unhandled` when it
 * failed; `DryRun` answers 204; a function whose reserved concurrency is in
 * use answers 429 `TooManyRequestsException`. `FunctionName` is a physical
 * name or an ARN. Every call must carry a function's SigV4 signature and its
 * role must allow `lambda:InvokeFunction` on the target, as on AWS.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LAMBDA_LIMITS } from '../functions/core/aws-limits';
import type { LambdaContainers } from './lambda-containers';
import { BodyTooLargeError, readBody, sendAwsError } from './http-responses';
import { type LocalIam, sendAwsResponse } from './local-iam';

/** Who may call: every invocation is signed by a function's role and authorized. */
export interface InvokeAuthorization {
  readonly iam: LocalIam;
  readonly region: string;
  readonly accountId: string;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

export function isInvokePath(pathname: string): boolean {
  return INVOKE_PATH.test(pathname);
}

export async function handleInvokeApi(
  functions: Pick<LambdaContainers, 'resolve' | 'invoke' | 'invokeAsync' | 'specOf'>,
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
  authorization: InvokeAuthorization,
): Promise<void> {
  const { region, accountId } = authorization;
  if (request.method !== 'POST') return sendAwsError(response, 405, 'MethodNotAllowedException', 'Invoke is POST only');
  const name = decodeURIComponent(INVOKE_PATH.exec(pathname)![1]!);
  const fn = functions.resolve(name);
  if (!fn) {
    return sendAwsError(response, 404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:${region}:${accountId}:function:${name}`, { Type: 'User' });
  }
  const invocationType = headerOf(request, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (!['Event', 'RequestResponse', 'DryRun'].includes(invocationType)) {
    return sendAwsError(response, 400, 'InvalidParameterValueException', `Unsupported invocation type ${invocationType}`, { Type: 'User' });
  }
  const limit = invocationType === 'Event' ? LAMBDA_LIMITS.maxAsyncPayloadBytes : LAMBDA_LIMITS.maxSyncPayloadBytes;
  let raw: Buffer;
  try {
    raw = await readBody(request, limit);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      return sendAwsError(response, 413, 'RequestTooLargeException', `Request must be smaller than ${limit} bytes for the ${invocationType} invocation type`, { Type: 'User' });
    }
    throw error;
  }
  // IAM authorizes lambda:InvokeFunction on the function's unqualified ARN.
  const refusal = await authorization.iam.check(
    'lambda',
    { method: 'POST', rawPath: request.url ?? pathname, headers: request.headers, body: raw },
    'lambda:InvokeFunction',
    functions.specOf(fn)!.arn,
  );
  if (refusal) return sendAwsResponse(response, refusal);
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
