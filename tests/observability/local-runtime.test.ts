/**
 * A request through the local runtime, observed as an operator would on AWS:
 * the functions' JSON log lines carry the request ids, the connection, the
 * action and the tenant (never the token), and their EMF output adds up to
 * the metrics the dashboard and the alarms read, served at `GET /metrics`.
 */
import { existsSync } from 'node:fs';
import { FUNCTION_NAMES } from '../../functions/core/function-declarations';
import { join } from 'node:path';
import type { MetricSeriesSummary } from '../../local/emf-metrics';
import { type LocalRuntimeHandle, REPO_ROOT, startLocalRuntime } from '../support/local-runtime';
import { openSocket } from '../support/socket-client';

jest.setTimeout(60_000);

const built = FUNCTION_NAMES.every((fn) => existsSync(join(REPO_ROOT, 'dist', fn, 'index.js')));
// The Powertools service name is the deployment's name: `<project>-<stack>`.
const SERVICE = 'streamer-local';

type Line = Record<string, unknown>;

(built ? describe : describe.skip)('observability of the local runtime', () => {
  let runtime: LocalRuntimeHandle;
  let token: string;

  const logLines = (): Line[] =>
    runtime
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Line)
      .filter((line) => typeof line.message === 'string');

  const series = async (name: string): Promise<MetricSeriesSummary[]> => {
    const response = await fetch(`${runtime.httpUrl}/_local/metrics?name=${name}`);
    return ((await response.json()) as { series: MetricSeriesSummary[] }).series;
  };
  /** The one series of a metric with exactly these dimensions. */
  const find = async (name: string, dimensions: Record<string, string>): Promise<MetricSeriesSummary | undefined> =>
    (await series(name)).find((s) => JSON.stringify(Object.entries(s.dimensions).sort()) === JSON.stringify(Object.entries({ service: SERVICE, ...dimensions }).sort()));
  const eventually = async <T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> => {
    for (let i = 0; ; i += 1) {
      const value = await read();
      if (ok(value) || i > 100) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    runtime = await startLocalRuntime({ env: { STREAMER_LOCAL_FUNCTION_LOGS: 'json' }, stack: { logLevel: 'INFO' } });
    token = runtime.mintToken({ sub: 'alice', tenant: 'acme' });
    const socket = await openSocket(`${runtime.wsUrl}/?token=${token}`);
    socket.send({ id: 'sync-1', action: 'echo', payload: { hello: 'world' } });
    await socket.next((m) => m.id === 'sync-1' && m.type === 'result');
    socket.send({ id: 'async-1', action: 'generate_report', payload: { rows: 10, stepDelayMs: 20 } });
    await socket.next((m) => m.id === 'async-1' && m.type === 'result');
    await socket.close();
    await eventually(() => find('ConnectionsClosed', {}), (s) => s?.sum === 1);
  });
  afterAll(() => runtime?.stop());

  it('logs each accepted request as JSON with the request ids, the connection, the action and the tenant', () => {
    const accepted = logLines().filter((line) => line.message === 'Request accepted');
    expect(accepted).toHaveLength(2);
    const [sync, queued] = accepted;
    const correlation = {
      level: 'INFO',
      service: SERVICE,
      function_name: 'streamer-local-router',
      function_request_id: expect.any(String),
      correlation_id: expect.any(String),
      connectionId: expect.any(String),
      route: '$default',
      tenantId: 'acme',
      userId: 'alice',
    };
    expect(sync).toMatchObject({ ...correlation, action: 'echo', clientId: 'sync-1', path: 'sync' });
    expect(queued).toMatchObject({ ...correlation, action: 'generate_report', clientId: 'async-1', path: 'async', requestId: expect.any(String) });
    expect(sync.function_request_id).not.toBe(queued.function_request_id);
  });

  it('logs the connect and the end of the queued run with the same connection and tenant', () => {
    const lines = logLines();
    const connected = lines.find((line) => line.message === 'Connected')!;
    const accepted = lines.find((line) => line.message === 'Request accepted' && line.action === 'generate_report')!;
    const ended = lines.find((line) => line.message === 'Request ended')!;
    expect(connected).toMatchObject({ function_name: 'streamer-local-connect', connectionId: accepted.connectionId, tenantId: 'acme', route: '$connect' });
    expect(ended).toMatchObject({
      function_name: 'streamer-local-processor',
      // Run where it was claimed: the router's direct dispatch (`claim`), or a worker the stream dispatched to (`run`).
      trigger: expect.stringMatching(/^(claim|run)$/),
      requestId: accepted.requestId,
      action: 'generate_report',
      connectionId: accepted.connectionId,
      tenantId: 'acme',
      status: 'completed',
    });
  });

  it('never logs the token', () => {
    expect(runtime.output()).not.toContain(token);
    expect(runtime.output()).not.toContain(token.split('.')[2]);
  });

  it('counts the requests by action and path, in the service-wide series the alarms read and in the breakdown', async () => {
    expect(await find('RequestsAccepted', {})).toMatchObject({ unit: 'Count', count: 2, sum: 2 });
    expect(await find('RequestsAccepted', { action: 'echo', path: 'sync' })).toMatchObject({ sum: 1 });
    expect(await find('RequestsAccepted', { action: 'generate_report', path: 'async' })).toMatchObject({ sum: 1 });
  });

  it('measures handler duration with percentiles, queue wait, and the progress messages sent', async () => {
    const duration = await find('HandlerDurationMs', {});
    expect(duration).toMatchObject({ unit: 'Milliseconds', count: 2 });
    expect(duration!.p99).toBeGreaterThanOrEqual(duration!.p50);
    // Five steps of 20 ms.
    expect((await find('HandlerDurationMs', { action: 'generate_report' }))!.p50).toBeGreaterThanOrEqual(90);
    // One claim won, by either path (`via`), and the other path's claim lost.
    const waits = [await find('QueueWaitMs', { action: 'generate_report', via: 'direct' }), await find('QueueWaitMs', { action: 'generate_report', via: 'stream' })];
    expect(waits.filter((w) => w !== undefined)).toEqual([expect.objectContaining({ unit: 'Milliseconds', count: 1 })]);
    expect((await find('ProgressMessagesSent', { action: 'generate_report' }))!.sum).toBeGreaterThan(0);
  });

  it('counts connections opened and closed, and no failures or retries', async () => {
    expect(await find('ConnectionsOpened', {})).toMatchObject({ sum: 1 });
    expect(await find('ConnectionsClosed', {})).toMatchObject({ sum: 1 });
    expect(await series('Failures')).toEqual([]);
    expect(await series('Retries')).toEqual([]);
  });

  it('serves the same numbers as Prometheus text at GET /metrics', async () => {
    const response = await fetch(`${runtime.httpUrl}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain(`Streamer_RequestsAccepted_total{service="${SERVICE}"} 2`);
    expect(text).toContain(`Streamer_RequestsAccepted_total{service="${SERVICE}",action="echo",path="sync"} 1`);
    expect(text).toMatch(new RegExp(`Streamer_HandlerDurationMs\\{service="${SERVICE}",quantile="0.99"\\} \\d+`));
    expect(text).toContain(`Streamer_HandlerDurationMs_count{service="${SERVICE}"} 2`);
  });
});
