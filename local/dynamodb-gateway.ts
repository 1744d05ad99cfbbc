/**
 * DynamoDB's front door, as the functions reach it: every request must carry
 * a valid SigV4 signature from a function's credentials, and every table and
 * index it touches is authorized against that function's role before the
 * request goes on, unchanged, to DynamoDB Local. A denied call answers
 * `AccessDeniedException` exactly as DynamoDB does, so the function's AWS SDK
 * throws what it would throw on AWS.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenEphemeral } from './ephemeral-server';
import { dynamoDbAuthorizations, UnsupportedDynamoDbOperationError } from './dynamodb-request-resources';
import { readBody } from './http-responses';
import { type LocalIam, sendAwsResponse } from './local-iam';
import { describeError, type Logger } from './log';

/** DynamoDB's own request size limit is 16 MB for batches; anything larger is not a real request. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

export interface DynamoDbGatewayOptions {
  readonly iam: LocalIam;
  /** DynamoDB Local's endpoint, e.g. `http://127.0.0.1:8000`. */
  readonly upstream: string;
  readonly region: string;
  readonly accountId: string;
  readonly host: string;
  /** Why DynamoDB Local is known to be down (its supervisor said so, once), or `undefined` while it serves. */
  readonly upstreamUnavailability?: () => string | undefined;
  readonly log: Logger;
}

/** Calls that reached DynamoDB Local, by function, then table, then operation (`GetItem`, …). */
export type DynamoDbCallCounts = Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number>>>>>>;

export interface RunningDynamoDbGateway {
  readonly endpoint: string;
  /** What each function asked DynamoDB for so far (authorized calls only): what it would be billed for. */
  calls(): DynamoDbCallCounts;
  stop(): Promise<void>;
}

const send = sendAwsResponse;

export async function startDynamoDbGateway(options: DynamoDbGatewayOptions): Promise<RunningDynamoDbGateway> {
  const upstream = new URL(options.upstream);
  const counts: Record<string, Record<string, Record<string, number>>> = {};
  const count = (functionName: string, target: string, request: Record<string, unknown>): void => {
    const operation = target.split('.').at(-1) ?? target;
    const tables = typeof request.TableName === 'string' ? [request.TableName] : Object.keys((request.RequestItems as object | undefined) ?? {});
    const byTable = (counts[functionName] ??= {});
    for (const table of tables) {
      const byOperation = (byTable[table] ??= {});
      byOperation[operation] = (byOperation[operation] ?? 0) + 1;
    }
  };
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request, MAX_REQUEST_BYTES);
    const authentication = await options.iam.authenticate('dynamodb', {
      method: request.method ?? 'POST',
      rawPath: request.url ?? '/',
      headers: request.headers,
      body,
    });
    if (!authentication.ok) return send(response, authentication.response);
    const target = String(request.headers['x-amz-target'] ?? '');
    let authorizations;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      authorizations = dynamoDbAuthorizations(target, parsed, options.region, options.accountId);
    } catch (error) {
      const message = error instanceof UnsupportedDynamoDbOperationError ? error.message : `unreadable request: ${describeError(error)}`;
      options.log.error(`DynamoDB ${target} from ${authentication.principal.functionName}: ${message}`);
      return send(response, {
        status: 400,
        headers: { 'Content-Type': 'application/x-amz-json-1.0' },
        body: JSON.stringify({ __type: 'com.amazon.coral.validate#ValidationException', message }),
      });
    }
    for (const { action, resource } of authorizations) {
      const refusal = options.iam.authorize('dynamodb', authentication.principal, action, resource);
      if (refusal) return send(response, refusal);
    }
    count(authentication.principal.functionName, target, parsed);
    await forward(request, body, response);
  };

  const unavailable = (response: ServerResponse): void =>
    send(response, {
      status: 503,
      headers: { 'Content-Type': 'application/x-amz-json-1.0' },
      body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ServiceUnavailable', message: 'DynamoDB Local is unavailable' }),
    });

  // One warning per run of failures, not one per call: a dying DynamoDB Local fails every call at once.
  let upstreamFailing = false;
  const forward = (request: IncomingMessage, body: Buffer, response: ServerResponse): Promise<void> =>
    new Promise((resolve) => {
      // Known down: answer at once, as an unreachable service would (a 5xx the SDK retries); the supervisor has logged why.
      if (options.upstreamUnavailability?.()) {
        unavailable(response);
        resolve();
        return;
      }
      const headers = { ...request.headers, host: upstream.host, 'content-length': String(body.length) };
      const proxied = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers },
        (answer) => {
          upstreamFailing = false;
          response.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(response);
          answer.on('end', resolve);
          answer.on('error', () => resolve());
        },
      );
      proxied.on('error', (error) => {
        // DynamoDB Local is gone: answer as an unreachable service would, a 5xx the SDK retries.
        // Its death is the supervisor's one error line; a failure it has not seen (yet) is a warning.
        if (!upstreamFailing && !options.upstreamUnavailability?.()) {
          options.log.warn(`DynamoDB Local did not answer: ${describeError(error)} (further failures are not logged until it answers again)`);
        }
        upstreamFailing = true;
        if (!response.headersSent) unavailable(response);
        else response.destroy();
        resolve();
      });
      proxied.end(body);
    });

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.log.error(`DynamoDB gateway failed: ${describeError(error)}`);
      if (!response.headersSent) send(response, { status: 500, headers: { 'Content-Type': 'application/x-amz-json-1.0' }, body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal error' }) });
      else response.destroy();
    });
  });
  const listening = await listenEphemeral(server, options.host);
  return { ...listening, calls: () => structuredClone(counts) };
}
