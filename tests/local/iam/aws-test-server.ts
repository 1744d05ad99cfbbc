/**
 * A tiny HTTP server on 127.0.0.1 that real AWS SDK clients are pointed at:
 * it records every request exactly as received and answers with whatever
 * the test decides.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  readonly rawPath: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface CannedResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface AwsTestServer {
  readonly endpoint: string;
  readonly received: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startAwsTestServer(respond: (request: ReceivedRequest) => CannedResponse | Promise<CannedResponse>): Promise<AwsTestServer> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const request = { method: req.method ?? 'GET', rawPath: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
      received.push(request);
      const { status, headers = {}, body = '' } = await respond(request);
      res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
