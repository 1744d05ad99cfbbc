/**
 * The functions' metrics as CloudWatch reads them: EMF lines from Powertools,
 * each data point in the `{ service }` series the alarms watch and, when the
 * call gave dimensions, in the breakdown beside it.
 */
import { METRICS } from '../../functions/core/metric-names';
import { EmbeddedMetrics } from '../../functions/powertools-metrics';
import { captureJsonLines } from './capture-stdout';

interface EmfLine {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

const metrics = () => new EmbeddedMetrics({ namespace: 'Streamer', serviceName: 'streamer-test' });

describe('EmbeddedMetrics', () => {
  it('prints one EMF line per dimension combination, each in the { service } series and its breakdown', async () => {
    const lines = (await captureJsonLines(() => {
      const m = metrics();
      m.add(METRICS.requests, 1, 'Count', { action: 'echo', path: 'sync' });
      m.add(METRICS.handlerDuration, 12, 'Milliseconds', { action: 'echo' });
      m.add(METRICS.connectionsOpened, 1, 'Count');
      m.publish();
    })) as EmfLine[];
    expect(lines).toHaveLength(3);
    const byMetric = (name: string) => lines.find((line) => line._aws.CloudWatchMetrics[0].Metrics.some((m) => m.Name === name))!;

    const requests = byMetric('RequestsAccepted');
    expect(requests._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'Streamer',
      Dimensions: [['service'], ['service', 'action', 'path']],
      Metrics: [{ Name: 'RequestsAccepted', Unit: 'Count' }],
    });
    expect(requests).toMatchObject({ service: 'streamer-test', action: 'echo', path: 'sync', RequestsAccepted: 1 });

    const duration = byMetric('HandlerDurationMs');
    expect(duration._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service'], ['service', 'action']]);
    expect(duration._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'HandlerDurationMs', Unit: 'Milliseconds' }]);
    expect(duration.HandlerDurationMs).toBe(12);

    const opened = byMetric('ConnectionsOpened');
    expect(opened._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
    expect(opened).toMatchObject({ service: 'streamer-test', ConnectionsOpened: 1 });
  });

  it('keeps every data point of an invocation: repeated values become an EMF value array', async () => {
    const [line] = await captureJsonLines(() => {
      const m = metrics();
      m.add(METRICS.progressSent, 2, 'Count', { action: 'generate_report' });
      m.add(METRICS.progressSent, 3, 'Count', { action: 'generate_report' });
      m.publish();
    });
    expect(line.ProgressMessagesSent).toEqual([2, 3]);
  });

  it('prints nothing for an invocation that recorded nothing, and starts empty after a publish', async () => {
    const m = metrics();
    const first = await captureJsonLines(() => {
      m.add(METRICS.retries, 1, 'Count', { action: 'echo', code: 'TIMEOUT' });
      m.publish();
    });
    expect(first).toHaveLength(1);
    expect(await captureJsonLines(() => m.publish())).toEqual([]);
  });

  it('treats dimensions in any order as one series', async () => {
    const lines = await captureJsonLines(() => {
      const m = metrics();
      m.add(METRICS.failures, 1, 'Count', { action: 'echo', code: 'TIMEOUT' });
      m.add(METRICS.failures, 1, 'Count', { code: 'TIMEOUT', action: 'echo' });
      m.publish();
    });
    expect(lines).toHaveLength(1);
    expect(lines[0].Failures).toEqual([1, 1]);
  });
});
