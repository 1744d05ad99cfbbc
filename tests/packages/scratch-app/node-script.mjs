// Run by tarball-install.test.ts inside a scratch app that installed @streamer/client from its tarball.
import { StreamerClient, StreamerError } from '@streamer/client';

const client = new StreamerClient(process.env.STREAMER_URL, { token: process.env.STREAMER_TOKEN });
const echoed = await client.request('echo', { hello: 'from a scratch app' });
const progress = [];
const report = await client.request('generate_report', { rows: 42, stepDelayMs: 20 }, { onProgress: (p) => progress.push(p.progress) });
let refused;
try {
  await client.request('generate_report', { rows: -1 });
} catch (error) {
  refused = { isStreamerError: error instanceof StreamerError, code: error.code };
}
client.close();
console.log(JSON.stringify({ entry: import.meta.resolve('@streamer/client'), echoed, report, progress, refused }));
