/**
 * Nothing a handler returns or a client sends falls silent: the local
 * runtime (the rendered deployment, S3 and IAM included) with the real Node
 * client. Results over the 128 KB message limit arrive by reference and the
 * SDK fetches them; uploads reach handlers; nothing crosses a tenant.
 */
import { createHash } from 'node:crypto';
import { EXIT, runCli } from '../../client/cli/main';
import { StreamerClient, StreamerError } from '../../client/node';
import { ENV } from '../../functions/core/env-names';
import type { DeploymentManifest } from '../../local/deployment';
import { startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';
import { openSocket, type TestSocket } from '../support/socket-client';

jest.setTimeout(120_000);

/** Presigned URLs live 2 s here, so a test can watch one expire. */
function shortUrls(manifest: DeploymentManifest): DeploymentManifest {
  return {
    ...manifest,
    resources: manifest.resources.map((resource) => {
      if (resource.type !== 'aws:lambda/function:Function') return resource;
      const environment = resource.inputs.environment as { variables?: Record<string, unknown> } | undefined;
      if (environment?.variables?.[ENV.objectUrlTtlSeconds] === undefined) return resource;
      return { ...resource, inputs: { ...resource.inputs, environment: { variables: { ...environment.variables, [ENV.objectUrlTtlSeconds]: '2' } } } };
    }),
  };
}

let runtime: LocalRuntimeHandle;
const clients: StreamerClient[] = [];
const sockets: TestSocket[] = [];

beforeAll(async () => {
  runtime = await startLocalRuntime({ editManifest: shortUrls });
});

afterAll(async () => {
  for (const client of clients) client.close();
  for (const socket of sockets) await socket.close();
  await runtime?.stop();
});

function connect(sub = 'alice', tenant = 'acme'): StreamerClient {
  const client = new StreamerClient(runtime.wsUrl, { token: runtime.mintToken({ sub, tenant }), heartbeat: false });
  clients.push(client);
  return client;
}

async function socketFor(sub = 'alice', tenant = 'acme'): Promise<TestSocket> {
  const socket = await openSocket(`${runtime.wsUrl}?token=${runtime.mintToken({ sub, tenant })}`);
  sockets.push(socket);
  return socket;
}

type ExportResult = { rows: { n: number; text: string }[] };

describe('large results', () => {
  it('delivers a 5 MB async result to a Node client intact', async () => {
    const client = connect();
    const result = (await client.request('export_rows', { rows: 50_000, width: 100 })) as ExportResult;
    expect(result.rows).toHaveLength(50_000);
    expect(result.rows[49_999]).toEqual({ n: 49_999, text: '9'.repeat(100) });
    expect(Buffer.byteLength(JSON.stringify(result))).toBeGreaterThan(5_000_000);
  });

  it('sends a reference, not the data, for a result over the message limit (what an old client sees)', async () => {
    const socket = await socketFor();
    socket.send({ id: 'big-1', action: 'export_rows', payload: { rows: 5000, width: 100 } });
    const final = await socket.next<Record<string, unknown>>((m) => m.type === 'result' && m.id === 'big-1', 30_000);
    expect(final).not.toHaveProperty('data');
    expect(final).toMatchObject({ success: true, dataUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//), dataBytes: expect.any(Number), dataSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const body = Buffer.from(await (await fetch(final.dataUrl as string)).arrayBuffer());
    expect(body.length).toBe(final.dataBytes);
    expect(createHash('sha256').update(body).digest('hex')).toBe(final.dataSha256);
  });

  it('gives the 131,068-byte echo its full result', async () => {
    // The case, byte for byte: a request just under the inbound limit, whose reply is just over it.
    const socket = await socketFor();
    const frame = (text: string) => JSON.stringify({ id: 'echo-131068', action: 'echo', payload: { text } });
    const text = 'x'.repeat(131_068 - Buffer.byteLength(frame('')));
    expect(Buffer.byteLength(frame(text))).toBe(131_068);
    socket.send(frame(text));
    const reply = await socket.next<{ id: string; type: string; dataUrl: string; dataBytes: number }>((m) => m.id === 'echo-131068');
    expect(reply.type).toBe('result');
    expect(JSON.parse(await (await fetch(reply.dataUrl)).text())).toEqual({ text });
    // And through the SDK, which fetches it for the caller.
    const payload = { text: 'y'.repeat(130_000) };
    await expect(connect().request('echo', payload)).resolves.toEqual(payload);
  });

  it('answers status with a fresh URL once the old one has expired', async () => {
    const socket = await socketFor();
    socket.send({ id: 'exp-1', action: 'export_rows', payload: { rows: 3000, width: 100 } });
    const final = await socket.next<{ type: string; id: string; requestId: string; dataUrl: string }>((m) => m.type === 'result' && m.id === 'exp-1', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await fetch(final.dataUrl)).status).toBe(403);
    socket.send({ id: 'exp-2', action: 'status', payload: { requestId: final.requestId } });
    const status = await socket.next<{ type: string; id: string; request: { dataUrl: string; dataSha256: string } }>((m) => m.type === 'status' && m.id === 'exp-2');
    expect(status.request.dataUrl).not.toBe(final.dataUrl);
    expect((await fetch(status.request.dataUrl)).status).toBe(200);
    // The SDK does the same on its own: status() resolves with the data.
    const view = await connect().status(final.requestId);
    expect((view.result as ExportResult).rows).toHaveLength(3000);
  });

  it('prints a large result from the terminal client like any other', async () => {
    const out: string[] = [];
    const io = {
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: () => undefined },
      env: { STREAMER_URL: runtime.wsUrl, STREAMER_TOKEN: runtime.mintToken({ sub: 'alice', tenant: 'acme' }) },
    };
    await expect(runCli(['request', 'export_rows', '{"rows":20000}'], io)).resolves.toBe(EXIT.ok);
    expect((JSON.parse(out.join('')) as ExportResult).rows).toHaveLength(20_000);
  });

  it('will not read another tenant\'s request or its result', async () => {
    const owner = connect('alice', 'acme');
    let requestId = '';
    await owner.request('export_rows', { rows: 3000 }, { onAccepted: (id) => (requestId = id) });
    const stranger = connect('alice', 'other-tenant');
    await expect(stranger.status(requestId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('client → server', () => {
  it('sends a 100 KB input from Node as fragments the gateway accepts', async () => {
    const client = connect();
    const payload = { blob: 'y'.repeat(100 * 1024) };
    await expect(client.request('echo', payload)).resolves.toEqual(payload);
  });

  it('hands a 2 MB upload to a handler', async () => {
    const client = connect();
    const data = Buffer.alloc(2 * 1024 * 1024, 7);
    const file = await client.upload(new Uint8Array(data));
    await expect(client.request('digest_upload', { file })).resolves.toEqual({ bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  });

  it('hands an upload to a queued handler too (the worker reads it)', async () => {
    const client = connect();
    const file = await client.upload('queued input');
    await expect(client.request('digest_upload', { file, queue: true })).resolves.toEqual({ bytes: 12, sha256: createHash('sha256').update('queued input').digest('hex') });
  });

  it('will not let another tenant\'s handler read an upload', async () => {
    const file = await connect('alice', 'acme').upload('secret report');
    const error = await connect('alice', 'rival').request('digest_upload', { file }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamerError);
    expect((error as StreamerError).code).toBe('NOT_FOUND');
  });

  it('refuses an upload of another size than the one signed for', async () => {
    const socket = await socketFor();
    socket.send({ id: 'up-1', action: 'upload', payload: { bytes: 10 } });
    const signed = await socket.next<{ type: string; id: string; url: string; headers: Record<string, string> }>((m) => m.type === 'upload' && m.id === 'up-1');
    const response = await fetch(signed.url, { method: 'PUT', body: 'more than ten bytes', headers: signed.headers });
    expect(response.status).toBe(403);
  });
});
