import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiGatewayNotifier } from '../../functions/core/notify/notifier';

/** A stand-in for API Gateway's @connections endpoint answering with scripted status codes. */
async function managementApi(statusFor: (connectionId: string) => number): Promise<{ server: Server; endpoint: string; posts: string[] }> {
  const posts: string[] = [];
  const server = createServer((req, res) => {
    const id = decodeURIComponent((req.url ?? '').split('/@connections/')[1] ?? '');
    req.resume();
    req.on('end', () => {
      posts.push(id);
      const status = statusFor(id);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 410 ? '{"message":"Gone"}' : status >= 400 ? '{"message":"boom"}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, posts };
}

function client(endpoint: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 2 });
}

describe('ApiGatewayNotifier', () => {
  it('posts the message as JSON and counts it sent', async () => {
    const api = await managementApi(() => 200);
    const notifier = new ApiGatewayNotifier(client(api.endpoint), async () => undefined);
    await expect(notifier.send('abc=', { id: '1', type: 'pong' })).resolves.toBe('sent');
    expect(api.posts).toEqual(['abc=']);
    api.server.close();
  });

  it('prunes a gone connection (410) exactly once and never throws', async () => {
    const api = await managementApi(() => 410);
    const pruned: string[] = [];
    const notifier = new ApiGatewayNotifier(client(api.endpoint), async (id) => {
      pruned.push(id);
    });
    await expect(notifier.send('gone-1', { id: '1', type: 'pong' })).resolves.toBe('gone');
    await expect(notifier.send('gone-1', { id: '2', type: 'pong' })).resolves.toBe('gone');
    expect(pruned).toEqual(['gone-1']);
    expect(api.posts).toEqual(['gone-1']); // the second send did not even call AWS
    api.server.close();
  });

  it('reports a 5xx after the SDK retries as failed, without throwing', async () => {
    const api = await managementApi(() => 500);
    const warnings: string[] = [];
    const notifier = new ApiGatewayNotifier(client(api.endpoint), async () => undefined, { warn: (m) => warnings.push(m) });
    await expect(notifier.send('c', { id: '1', type: 'pong' })).resolves.toBe('failed');
    expect(api.posts.length).toBe(2); // maxAttempts
    expect(warnings).toHaveLength(1);
    api.server.close();
  });

  it('survives a prune that fails', async () => {
    const api = await managementApi(() => 410);
    const notifier = new ApiGatewayNotifier(client(api.endpoint), async () => {
      throw new Error('table unavailable');
    });
    await expect(notifier.send('x', { id: '1', type: 'pong' })).resolves.toBe('gone');
    api.server.close();
  });
});
