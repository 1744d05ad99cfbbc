/**
 * The local-only HTTP routes in-process, over a real loopback server: no
 * CORS header anywhere, `/dev-token` and `/_local/*` answer only this
 * runtime's own origin, development tokens are bounded and exist only while
 * the runtime uses the development secret.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import jwt from 'jsonwebtoken';
import { DEV_JWT_SECRET, DEV_TOKEN_LIMITS, mintDevToken, usesDevelopmentSecret } from '../../local/dev-token';
import { DeadLetterFile } from '../../local/dead-letters';
import { EmfMetrics } from '../../local/emf-metrics';
import { handleLocalEndpoint, type LocalEndpointsContext } from '../../local/local-endpoints';
import { REPO_ROOT } from '../support/local-runtime';
import { type StubGateway, startStubGateway } from '../support/stub-gateway';

let stub: StubGateway;
let dataDir: string;
let server: Server;
let port: number;
let devTokens = true;

beforeAll(async () => {
  stub = await startStubGateway();
  dataDir = mkdtempSync(join(tmpdir(), 'local-endpoints-'));
  const deadLetters = new DeadLetterFile(join(dataDir, 'dead-letters.jsonl'));
  deadLetters.reset();
  server = createServer((request, response) => {
    const httpUrl = `http://127.0.0.1:${port}`;
    const context: LocalEndpointsContext = {
      gateway: stub.gateway,
      deadLetters,
      metrics: new EmfMetrics(),
      dashboardDir: join(dataDir, 'no-dashboard'),
      wsUrl: () => `ws://127.0.0.1:${port}`,
      httpUrl,
      devTokens,
    };
    if (!handleLocalEndpoint(context, request, response, new URL(request.url ?? '/', httpUrl))) response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ({ port } = server.address() as AddressInfo);
});

afterEach(() => {
  devTokens = true;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await stub.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A GET with exactly these headers (fetch would add its own, and refuses to set `Host`). */
function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

const corsHeaders = (answer: Answer): string[] => Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'));

describe('local-only routes', () => {
  it.each(['/healthz', '/metrics', '/_local/metrics', '/_local/connections', '/_local/dead-letters', '/dev-token'])(
    'send no CORS header on %s',
    async (path) => {
      const answer = await get(path);
      expect(answer.status).toBe(200);
      expect(corsHeaders(answer)).toEqual([]);
    },
  );

  it.each([
    ['an Origin of another site', { origin: 'https://evil.example' }],
    ['an Origin of another port on this host', { origin: 'http://127.0.0.1:1' }],
    ['Origin: null', { origin: 'null' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
    ['a Host that is not this runtime (DNS rebinding)', { host: 'evil.example' }],
  ])('refuse /dev-token and /_local/connections with 403 for %s', async (_name, headers) => {
    for (const path of ['/dev-token', '/_local/connections']) {
      const answer = await get(path, headers);
      expect(answer.status).toBe(403);
      expect(answer.body).not.toContain('token"');
      expect(corsHeaders(answer)).toEqual([]);
    }
  });

  it('answer this runtime’s own origin, under each loopback name', async () => {
    expect((await get('/dev-token', { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await get('/_local/connections', { host: `localhost:${port}`, origin: `http://localhost:${port}` })).status).toBe(200);
  });
});

describe('GET /dev-token', () => {
  const claimsOf = (answer: Answer): Record<string, unknown> => jwt.verify((JSON.parse(answer.body) as { token: string }).token, DEV_JWT_SECRET) as Record<string, unknown>;

  it('mints a token with the asked claims and the documented 24 h default lifetime', async () => {
    const claims = claimsOf(await get('/dev-token?sub=bob&tenant=acme&permissions=reports:read,reports:write'));
    expect(claims).toMatchObject({ sub: 'bob', tenant_id: 'acme', permissions: ['reports:read', 'reports:write'] });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(DEV_TOKEN_LIMITS.defaultTtlSeconds);
  });

  it.each([
    ['a lifetime over 24 h', 'ttl=86401', /ttl/],
    ['a lifetime that is not a whole number', 'ttl=1e3', /ttl/],
    ['a sub over 256 characters', `sub=${'u'.repeat(257)}`, /sub: at most 256/],
    ['a tenant with a control character', 'tenant=ac%0Ame', /tenant must not contain control characters/],
    ['more than 20 permissions', `permissions=${Array.from({ length: 21 }, (_, i) => `p${i}`).join(',')}`, /at most 20/],
    ['a wildcard permission', 'permissions=reports:*', /wildcards/],
  ])('refuses %s with 400 and a message naming it', async (_name, query, message) => {
    const answer = await get(`/dev-token?${query}`);
    expect(answer.status).toBe(400);
    expect((JSON.parse(answer.body) as { message: string }).message).toMatch(message);
  });

  it('answers 403 saying to use your own issuer when the runtime uses a secret of its own', async () => {
    devTokens = false;
    const answer = await get('/dev-token?sub=bob&tenant=acme');
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('own issuer');
    expect(answer.body).not.toContain('"token"');
  });
});

describe('development tokens', () => {
  it('count as the development secret only when STREAMER_JWT_SECRET is unset or the default', () => {
    expect(usesDevelopmentSecret({})).toBe(true);
    expect(usesDevelopmentSecret({ STREAMER_JWT_SECRET: DEV_JWT_SECRET })).toBe(true);
    expect(usesDevelopmentSecret({ STREAMER_JWT_SECRET: 'my-own-secret' })).toBe(false);
  });

  it('are never minted for more than 24 h', () => {
    expect(() => mintDevToken({ sub: 'a', tenant: 't', expiresInSeconds: 7 * 24 * 3600 })).toThrow(/ttl/);
  });

  it('are refused by npm run token with a custom secret', () => {
    const cli = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/token/index.js'), '--sub', 'a', '--tenant', 't'], {
      env: { ...process.env, STREAMER_JWT_SECRET: 'my-own-secret' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain('own issuer');
    expect(cli.stdout).toBe('');
  });
});
