/**
 * Section 9, large results: a 5 MB result (`export_rows`, 50,000 rows of
 * 100 characters) through the local runtime and the Node SDK. The figure is
 * the time from the `ack` to the data in the client's hands: the handler
 * building the rows, storing them in the (emulated) results bucket, the
 * final message with its presigned URL, and the SDK's fetch, SHA-256 check
 * and parse.
 */
import { StreamerClient } from '../../client/node';
import { type BenchContext, runtimeOptions } from '../lib/context';
import { latencyValue, type SectionResult } from '../lib/report';
import { startBenchRuntime } from '../lib/runtime';
import { nowMs, summarise } from '../lib/stats';

export const LARGE_RESULT_JOB = { action: 'export_rows', payload: { rows: 50_000, width: 100 } } as const;

export async function measureLargeResults(context: BenchContext): Promise<SectionResult> {
  const runtime = await startBenchRuntime(runtimeOptions(context));
  const url = new URL(runtime.urlFor('bench-large'));
  const token = url.searchParams.get('token') ?? '';
  url.search = '';
  const client = new StreamerClient(url.toString(), { token, heartbeat: false });
  const jobs = context.quick ? 3 : 10;
  const warmup = 1;
  const ackToData: number[] = [];
  let bytes = 0;
  try {
    await client.ready();
    for (let i = 0; i < warmup + jobs; i++) {
      let ackAt = 0;
      const result = await client.request(LARGE_RESULT_JOB.action, LARGE_RESULT_JOB.payload, { onAccepted: () => (ackAt = nowMs()), timeoutMs: 60_000 });
      const dataAt = nowMs();
      if (i < warmup) continue;
      ackToData.push(dataAt - ackAt);
      bytes = Buffer.byteLength(JSON.stringify(result));
    }
  } finally {
    client.close();
    await runtime.stop();
  }
  const summary = summarise(ackToData);
  return {
    figures: [
      {
        section: '9 Large results',
        name: "5 MB result: ack → data in the client's hands",
        value: latencyValue(summary),
        note: `${jobs} jobs, ${(bytes / 1e6).toFixed(1)} MB each: handler, bucket PUT, presigned URL, SDK fetch + SHA-256 + parse`,
        data: { ...summary, bytes, jobs },
      },
    ],
    details: { ackToData: summary, bytes },
  };
}
