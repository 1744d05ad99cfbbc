/**
 * `npm run dev` end to end: scripts/dev.mjs builds a COPY of functions/ with
 * the build's own bundling options, starts the real local runtime on those
 * bundles, and rebuilds on every change. Editing a handler's source changes
 * what the next request gets, on the same open connection; a request in
 * flight finishes on the old code; a broken edit is reported once and the
 * last good build keeps serving.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamerClient } from '../../client/node';
import { mintDevToken } from '../../local/dev-token';
import { ensureLocalBundle, IAM_USAGE_FILE, REPO_ROOT } from '../support/local-runtime';
import { waitFor } from '../support/wait-for';

jest.setTimeout(120_000);

let work: string;
let dev: ChildProcess;
let output = '';
let client: StreamerClient;
let connects = 0;

const source = (file: string) => join(work, 'functions', 'handlers', file);
const edit = (file: string, from: string, to: string) => {
  const text = readFileSync(source(file), 'utf8');
  if (!text.includes(from)) throw new Error(`${file} has no ${from}`);
  writeFileSync(source(file), text.replace(from, to));
};
const occurrences = (needle: string) => output.split(needle).length - 1;

beforeAll(async () => {
  await ensureLocalBundle();
  work = mkdtempSync(join(tmpdir(), 'streamer-watch-'));
  cpSync(join(REPO_ROOT, 'functions'), join(work, 'functions'), { recursive: true });
  dev = spawn(
    process.execPath,
    [join(REPO_ROOT, 'scripts', 'dev.mjs'), '--skip-build', '--functions-dir', join(work, 'functions'), '--out-dir', join(work, 'bundles'), '--port', '0'],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        STREAMER_LOCAL_DATA_DIR: join(work, 'data'),
        STREAMER_LOCAL_IAM_USAGE_FILE: IAM_USAGE_FILE,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  dev.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  dev.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  await waitFor(() => output.includes('STREAMER_READY ') || dev.exitCode !== null, 60_000, 50);
  const line = output.split('\n').find((candidate) => candidate.startsWith('STREAMER_READY '));
  if (line === undefined) throw new Error(`npm run dev did not start:\n${output}`);
  const { wsUrl } = JSON.parse(line.slice('STREAMER_READY '.length)) as { wsUrl: string };
  client = new StreamerClient(wsUrl, { token: mintDevToken({ sub: 'watch-user', tenant: 'demo' }), onConnect: () => (connects += 1) });
  await client.ready();
}, 120_000);

afterAll(async () => {
  client?.close();
  if (dev && dev.exitCode === null) {
    const exited = new Promise((resolve) => dev.once('exit', resolve));
    dev.kill('SIGTERM');
    await exited;
  }
  if (process.env.STREAMER_DEV_TEST_LOG) writeFileSync(process.env.STREAMER_DEV_TEST_LOG, output);
  rmSync(work, { recursive: true, force: true });
});

describe('npm run dev', () => {
  test('an edited handler answers the next request on the same connection; the request in flight finishes on the old code', async () => {
    expect(await client.request('echo', { n: 1 })).toEqual({ n: 1 });
    let accepted = false;
    let settled = false;
    // Long enough to outlast the rebuild on a busy machine: checked below, not assumed.
    const inFlight = client.request('generate_report', { rows: 7, stepDelayMs: 2_000 }, { onProgress: () => (accepted = true) });
    void inFlight.finally(() => (settled = true));
    await waitFor(() => accepted, 15_000);

    const editedAt = Date.now();
    edit('echo.ts', 'return payload as JsonValue;', 'return { echoed: payload as JsonValue, version: 2 };');
    edit('generate-report.ts', 'summary: `Report over', 'summary: `Edited report over');
    let echoed: unknown;
    await waitFor(async () => {
      echoed = await client.request('echo', { n: 2 });
      return (echoed as { version?: number }).version === 2;
    }, 20_000, 100);
    console.log(`watch mode: edit → new behaviour served in ${Date.now() - editedAt} ms (${/\[dev\] rebuilt [^\n]* in (\d+) ms/.exec(output)?.[1]} ms of it the rebuild)`);
    expect(echoed).toEqual({ echoed: { n: 2 }, version: 2 });
    expect(settled).toBe(false); // the new code serves while the old code still runs the report

    await expect(inFlight).resolves.toMatchObject({ summary: 'Report over 7 rows' });
    await expect(client.request('generate_report', { rows: 3, stepDelayMs: 0 })).resolves.toMatchObject({ summary: 'Edited report over 3 rows' });
    expect(connects).toBe(1);
  });

  test('a broken edit is reported once and the last good build keeps serving', async () => {
    const good = readFileSync(source('echo.ts'), 'utf8');
    writeFileSync(source('echo.ts'), `${good}\nexport const broken = ;\n`);
    await waitFor(() => output.includes('[dev] build failed'), 20_000, 50);
    expect(output).toMatch(/echo\.ts:\d+:\d+/);
    expect(await client.request('echo', { n: 3 })).toEqual({ echoed: { n: 3 }, version: 2 });

    // The same error again (another save) is not printed again; a fix serves at once.
    writeFileSync(source('echo.ts'), `${good}\nexport const broken = ;\n// saved again\n`);
    const rebuildsBefore = occurrences('[dev] rebuilt');
    writeFileSync(source('echo.ts'), good.replace('version: 2', 'version: 3'));
    await waitFor(() => occurrences('[dev] rebuilt') > rebuildsBefore, 20_000, 50);
    expect(occurrences('[dev] build failed')).toBe(1);
    await waitFor(async () => ((await client.request('echo', { n: 4 })) as { version?: number }).version === 3, 20_000, 100);
    expect(connects).toBe(1);
  });
});
