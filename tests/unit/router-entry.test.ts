/**
 * The router never answers 200 in silence: a router that cannot work (here,
 * deployed without its tables) tells the client INTERNAL_ERROR where it can
 * and fails the invocation, so the function's error alarm counts it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';

let server: Server;
const posted: { path: string; body: string }[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      posted.push({ path: request.url ?? '', body });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  process.env = saved;
  await new Promise((resolve) => server.close(resolve));
});

const context = {
  functionName: 'streamer-test-router',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 29_000,
} as unknown as Context;

it('fails the invocation and tells the client INTERNAL_ERROR when its tables are not configured', async () => {
  // Exactly what a router deployed without its table variables would have: the management endpoint only.
  for (const name of Object.keys(process.env)) if (name.startsWith('STREAMER_')) delete process.env[name];
  Object.assign(process.env, {
    STREAMER_MANAGEMENT_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}/live`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  const { handler } = (await import('../../functions/router/index')) as typeof import('../../functions/router/index');
  const event = {
    requestContext: { connectionId: 'conn-1', routeKey: '$default', eventType: 'MESSAGE' },
    body: JSON.stringify({ id: 'c-1', action: 'ping' }),
    isBase64Encoded: false,
  };
  await expect(handler(event as never, context)).rejects.toThrow(/STREAMER_CONNECTIONS_TABLE is not set/);
  expect(posted).toHaveLength(1);
  expect(posted[0]!.path).toBe('/live/@connections/conn-1');
  expect(JSON.parse(posted[0]!.body)).toMatchObject({ id: 'c-1', type: 'error', error: { code: 'INTERNAL_ERROR', retryable: true } });
});
