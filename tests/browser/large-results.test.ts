/**
 * The browser SDK (`dist/client/index.mjs`, as published) in Chromium
 * against the local runtime: a 5 MB result, sent by reference, is fetched
 * from the bucket (CORS), checked and handed over intact; a 40 KB message,
 * which a browser would send as one frame over API Gateway's 32 KB limit,
 * is refused before it leaves, saying why and what to do; a 2 MB upload
 * goes from the page to the bucket and on to a handler.
 *
 * Needs Debian's chromium at /usr/bin/chromium (scripts/install-browser.sh).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT, startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';

const CHROMIUM = process.env.STREAMER_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SDK = join(REPO_ROOT, 'dist', 'client', 'index.mjs');
const SCREENSHOTS = join(__dirname, 'screenshots');
const describeWithBrowser = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.warn(`!! BROWSER TEST SKIPPED: no Chromium at ${CHROMIUM} (sudo bash scripts/install-browser.sh)`);

jest.setTimeout(90_000);

describeWithBrowser('large results and messages in Chromium', () => {
  let runtime: LocalRuntimeHandle;
  let browser: Browser;
  let page: Page;
  let token: string;

  beforeAll(async () => {
    runtime = await startLocalRuntime();
    token = runtime.mintToken({ sub: 'browser', tenant: 'acme' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage();
    // The page is of the runtime's origin; the SDK module is served to it as a bundler would.
    await page.route(`${runtime.httpUrl}/__sdk/index.mjs`, (route) => route.fulfill({ contentType: 'text/javascript', body: readFileSync(SDK, 'utf8') }));
    await page.goto(`${runtime.httpUrl}/healthz`);
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  /** Runs `body` in the page with `StreamerClient` imported from the SDK bundle and `client` connected (as source text: the test's compiler must not rewrite the page's `import()`). */
  async function inPage<T>(body: string): Promise<T> {
    return page.evaluate(`(async () => {
      const { StreamerClient } = await import(${JSON.stringify(`${runtime.httpUrl}/__sdk/index.mjs`)});
      const client = new StreamerClient(${JSON.stringify(runtime.wsUrl)}, { token: ${JSON.stringify(token)}, heartbeat: false });
      try { ${body} } finally { client.close(); }
    })()`) as Promise<T>;
  }

  test('a 5 MB result reaches the page intact', async () => {
    const outcome = await inPage<{ rows: number; last: unknown; bytes: number }>(`
      const result = await client.request('export_rows', { rows: 50000, width: 100 });
      return { rows: result.rows.length, last: result.rows.at(-1), bytes: new TextEncoder().encode(JSON.stringify(result)).length };
    `);
    expect(outcome.rows).toBe(50_000);
    expect(outcome.last).toEqual({ n: 49_999, text: '9'.repeat(100) });
    expect(outcome.bytes).toBeGreaterThan(5_000_000);
  });

  test('a 2 MB upload from the page reaches a handler (a cross-origin PUT to the bucket, CORS preflight included)', async () => {
    const outcome = await inPage<{ bytes: number; sha256: string }>(`
      const data = new Uint8Array(2 * 1024 * 1024).fill(7);
      const file = await client.upload(data, { contentType: 'application/octet-stream' });
      return await client.request('digest_upload', { file });
    `);
    expect(outcome).toEqual({ bytes: 2 * 1024 * 1024, sha256: createHash('sha256').update(Buffer.alloc(2 * 1024 * 1024, 7)).digest('hex') });
  });

  test('the dashboard offers a 5 MB result as a download, with a preview', async () => {
    const dashboard = await browser.newPage({ viewport: { width: 1200, height: 720 }, acceptDownloads: true });
    try {
      await dashboard.goto(`${runtime.httpUrl}/?sub=browser-test&tenant=demo`);
      await dashboard.locator('[data-testid="connection-state"][data-state="open"]').waitFor({ timeout: 15_000 });
      await dashboard.getByTestId('action-select').selectOption('export_rows');
      await dashboard.getByTestId('start-button').click();
      const row = dashboard.locator('[data-testid="request-row"][data-status="completed"]').first();
      await row.waitFor({ timeout: 30_000 });
      const link = row.getByTestId('download-result');
      await expect(link.textContent()).resolves.toMatch(/Download result \(\d+\.\d MB\)/);
      const [download] = await Promise.all([dashboard.waitForEvent('download'), link.click()]);
      const file = await download.path();
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { rows: unknown[] };
      expect(saved.rows).toHaveLength(50_000);
      await expect(row.getByTestId('request-detail').textContent()).resolves.toContain('download it for the rest');
      mkdirSync(SCREENSHOTS, { recursive: true });
      await dashboard.screenshot({ path: join(SCREENSHOTS, 'dashboard-large-result.png'), fullPage: true });
    } finally {
      await dashboard.close();
    }
  });

  test('a 40 KB message is refused before it is sent, with PAYLOAD_TOO_LARGE saying why and what to do', async () => {
    const outcome = await inPage<{ code: string; message: string; echoed: unknown }>(`
      await client.ready();
      const error = await client.request('echo', { blob: 'b'.repeat(40 * 1024) }).catch((e) => e);
      // The connection survived: nothing over the frame limit reached the gateway.
      const echoed = await client.request('echo', { still: 'open' });
      return { code: error.code, message: error.message, echoed };
    `);
    expect(outcome.code).toBe('PAYLOAD_TOO_LARGE');
    expect(outcome.message).toMatch(/one WebSocket frame.*32768 bytes.*client\.upload\(\)/);
    expect(outcome.echoed).toEqual({ still: 'open' });
  });
});
