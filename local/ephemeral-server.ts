/** An emulated AWS endpoint's HTTP server on an ephemeral loopback port. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ListeningEndpoint {
  /** `http://<host>:<port>`: what the functions' `AWS_ENDPOINT_URL_*` names. */
  readonly endpoint: string;
  /** Closes the server and every open connection. */
  stop(): Promise<void>;
}

/** Listens on port 0 of `host`; SDK clients keep connections alive, so the server does too (60 s). */
export async function listenEphemeral(server: Server, host: string): Promise<ListeningEndpoint> {
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
