/**
 * The local runtime reads what the functions' containers print as CloudWatch
 * would: EMF lines become metrics (sums, counts, percentiles), JSON log
 * lines are shown readably.
 */
import { Writable } from 'node:stream';
import { METRICS } from '../../functions/core/metric-names';
import { EmbeddedMetrics } from '../../functions/powertools-metrics';
import { EmfMetrics } from '../../local/emf-metrics';
import { createFunctionOutput, readable } from '../../local/function-output';
import { captureJsonLines } from './capture-stdout';

function fakeStream(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString('utf8');
      callback();
    },
  });
  return { stream, text: () => text };
}

describe('EmfMetrics', () => {
  it('adds up EMF lines per dimension set, with nearest-rank percentiles', async () => {
    const lines = await captureJsonLines(() => {
      const emitter = new EmbeddedMetrics({ namespace: 'Streamer', serviceName: 'svc' });
      for (let ms = 1; ms <= 100; ms++) emitter.add(METRICS.handlerDuration, ms, 'Milliseconds', { action: ms <= 50 ? 'a' : 'b' });
      emitter.add(METRICS.requests, 1, 'Count', { action: 'a', path: 'sync' });
      emitter.publish();
    });
    const metrics = new EmfMetrics();
    for (const line of lines) expect(metrics.record(line)).toBe(true);
    expect(metrics.record({ level: 'INFO', message: 'not EMF' })).toBe(false);

    const durations = metrics.summaries('HandlerDurationMs');
    const all = durations.find((s) => Object.keys(s.dimensions).length === 1)!;
    expect(all).toMatchObject({ namespace: 'Streamer', unit: 'Milliseconds', dimensions: { service: 'svc' }, count: 100, sum: 5050, min: 1, max: 100, p50: 50, p95: 95, p99: 99 });
    expect(durations.find((s) => s.dimensions.action === 'b')).toMatchObject({ count: 50, p50: 75 });
    expect(metrics.summaries('RequestsAccepted').map((s) => s.dimensions)).toEqual([{ service: 'svc' }, { service: 'svc', action: 'a', path: 'sync' }]);
  });

  it('takes its percentiles from the latest 10,000 values, while count and sum cover them all', () => {
    const metrics = new EmfMetrics();
    const point = (value: number) => ({ _aws: { Timestamp: 0, CloudWatchMetrics: [{ Namespace: 'Streamer', Dimensions: [['service']], Metrics: [{ Name: 'LatencyMs', Unit: 'Milliseconds' }] }] }, service: 'svc', LatencyMs: value });
    // 5,000 slow values, then 10,000 fast ones: the slow ones have left the window.
    for (let i = 0; i < 5000; i++) metrics.record(point(1000));
    for (let i = 0; i < 10_000; i++) metrics.record(point(1 + (i % 10)));
    const [summary] = metrics.summaries('LatencyMs');
    expect(summary).toMatchObject({ count: 15_000, sum: 5000 * 1000 + 10_000 * 5.5, min: 1, max: 1000, p50: 5, p99: 10 });
  });
});

describe('the functions\' output', () => {
  const log = {
    level: 'INFO',
    message: 'Request accepted',
    timestamp: '2026-11-23T12:03:04.512Z',
    service: 'streamer-local',
    cold_start: false,
    function_name: 'streamer-local-router',
    function_request_id: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    correlation_id: 'L0SM9cOFvHcCIhw=',
    connectionId: 'L0SM9cOFvHcCIhw=',
    action: 'echo',
    tenantId: 'acme',
    note: 'two words',
  };

  it('prints a Powertools log line readably, in the runtime\'s own layout', () => {
    expect(readable(log)).toBe(
      '12:03:04.512 router    Request accepted correlation_id=L0SM9cOFvHcCIhw= connectionId=L0SM9cOFvHcCIhw= action=echo tenantId=acme note="two words"',
    );
    expect(readable({ ...log, level: 'WARN', message: 'Lease renewal failed' })).toContain('router    WARN Lease renewal failed');
  });

  it('takes EMF lines out of the output into the metrics, and passes other lines through', () => {
    const metrics = new EmfMetrics();
    const stdout = fakeStream();
    const stderr = fakeStream();
    const output = createFunctionOutput({ metrics, format: 'readable', streams: { stdout: stdout.stream, stderr: stderr.stream } });
    output('streamer-local-router', 'stdout', `${JSON.stringify(log)}\n`);
    output('streamer-local-router', 'stdout', `${JSON.stringify({ _aws: { Timestamp: 0, CloudWatchMetrics: [{ Namespace: 'Streamer', Dimensions: [['service']], Metrics: [{ Name: 'ConnectionsOpened', Unit: 'Count' }] }] }, service: 'svc', ConnectionsOpened: 1 })}\n`);
    output('streamer-local-router', 'stderr', 'a plain line\n{not json}\n');
    expect(stdout.text().split('\n')).toEqual([expect.stringMatching(/^12:03:04\.512 router {4}Request accepted /), '']);
    expect(stderr.text()).toBe('a plain line\n{not json}\n');
    expect(metrics.summaries('ConnectionsOpened')).toMatchObject([{ sum: 1, dimensions: { service: 'svc' } }]);
  });

  it('names the function that printed a log line without function_name', () => {
    const metrics = new EmfMetrics();
    const { stream, text } = fakeStream();
    const output = createFunctionOutput({ metrics, format: 'readable', streams: { stdout: stream, stderr: stream } });
    const { function_name: _omitted, ...bare } = log;
    output('streamer-local-processor', 'stdout', `${JSON.stringify(bare)}\n`);
    expect(text()).toMatch(/^12:03:04\.512 processor Request accepted /);
  });

  it('prints every line untouched in json format, still reading the metrics', () => {
    const metrics = new EmfMetrics();
    const { stream, text } = fakeStream();
    const output = createFunctionOutput({ metrics, format: 'json', streams: { stdout: stream, stderr: stream } });
    const emf = JSON.stringify({ _aws: { Timestamp: 0, CloudWatchMetrics: [{ Namespace: 'Streamer', Dimensions: [['service']], Metrics: [{ Name: 'Retries', Unit: 'Count' }] }] }, service: 'svc', Retries: [1, 1] });
    output('streamer-local-router', 'stdout', `${JSON.stringify(log)}\n${emf}\n`);
    expect(text()).toBe(`${JSON.stringify(log)}\n${emf}\n`);
    expect(metrics.summaries('Retries')).toMatchObject([{ count: 2, sum: 2 }]);
  });
});
