/**
 * The React hooks in real Chromium: a page on the INSTALLED @streamer/client
 * and @streamer/react tarballs (React from npm, 19 and 18, bundled with
 * esbuild in a scratch app, rendered in StrictMode), against the real local runtime.
 * Start a job and see its progress; reload mid-job and see it resume and
 * finish; cancel another. The WebSocket frames the page sends are recorded,
 * so a doubled request or subscription would show.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { StreamerClient } from '../../client/node';
import { describeWithChromium, launchChromium } from '../support/chromium';
import { startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';
import { createScratchApp, serveDirectory, type ScratchApp } from '../support/scratch-app';
import { waitFor } from '../support/wait-for';

jest.setTimeout(120_000);

interface Frame {
  readonly direction: 'sent' | 'received';
  readonly at: number;
  readonly body: { id?: string; action?: string; type?: string; requestId?: string; payload?: { requestId?: string; afterSeq?: number } };
}

/** The peer range is ^18 || ^19: the page runs on both (18 from the registry, 19 is the devDependency). */
const REACT_VERSIONS = [
  { major: '19', packages: ['react', 'react-dom'] },
  { major: '18', packages: ['react@18.3.1', 'react-dom@18.3.1'] },
];

describeWithChromium().each(REACT_VERSIONS)('React $major hooks in Chromium', ({ major, packages }) => {
  let app: ScratchApp;
  let runtime: LocalRuntimeHandle;
  let server: { url: string; close(): Promise<void> };
  let browser: Browser;
  let page: Page;
  let pageUrl: string;
  let token: string;
  const frames: Frame[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [app, runtime] = await Promise.all([createScratchApp(packages), startLocalRuntime()]);
    copyFileSync(join(__dirname, 'react-page', 'app.tsx'), join(app.dir, 'app.tsx'));
    mkdirSync(join(app.dir, 'public'), { recursive: true });
    copyFileSync(join(__dirname, '..', 'packages', 'scratch-app', 'index.html'), join(app.dir, 'public', 'index.html'));
    await app.bundleForBrowser('app.tsx', 'page.js');
    server = await serveDirectory(join(app.dir, 'public'));
    token = runtime.mintToken({ sub: 'react-user', tenant: 'demo' });
    pageUrl = `${server.url}/?url=${encodeURIComponent(runtime.wsUrl)}&token=${encodeURIComponent(token)}`;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('websocket', (socket) => {
      const record = (direction: Frame['direction']) => ({ payload }: { payload: string | Buffer }) =>
        frames.push({ direction, at: Date.now(), body: JSON.parse(payload.toString()) as Frame['body'] });
      socket.on('framesent', record('sent'));
      socket.on('framereceived', record('received'));
    });
    await page.goto(pageUrl);
    await page.locator('[data-testid="connection"][data-state="open"]').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('connection').getAttribute('data-react')).toMatch(new RegExp(`^${major}\\.`));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await runtime?.stop();
    app?.remove();
  });

  const job = (name: string) => page.getByTestId(`job-${name}`);
  const sent = (action: string, since = 0) => frames.filter((f) => f.direction === 'sent' && f.at >= since && f.body.action === action);
  /** Subscribes that open a subscription; one with afterSeq > 0 only asks again for progress missed in a gap (the same subscription). */
  const subscriptionsTo = (requestId: string, since: number) =>
    sent('subscribe', since).filter((f) => f.body.payload?.requestId === requestId && !((f.body.payload?.afterSeq ?? 0) > 0));

  test('starts a job and shows its progress, once, under StrictMode', async () => {
    await job('report').getByTestId('start').click();
    await page.locator('[data-testid="job-report"][data-state="processing"]').waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="job-report"] progress')?.getAttribute('data-value')) > 0);
    expect(await job('report').getByTestId('message').textContent()).toMatch(/…$/);
    expect(await job('report').getAttribute('data-request-id')).toMatch(/\S+/);
    expect(sent('generate_report')).toHaveLength(1);
  });

  test('a reload in the middle of the job picks it up and follows it to the end', async () => {
    const requestId = (await job('report').getAttribute('data-request-id'))!;
    expect(await job('report').getAttribute('data-state')).toBe('processing');
    const reloadedAt = Date.now();
    await page.reload();
    await page.locator('[data-testid="connection"][data-state="open"]').waitFor({ timeout: 15_000 });
    await page.locator(`[data-testid="job-report"][data-resumed="true"][data-request-id="${requestId}"]`).waitFor({ timeout: 10_000 });
    // Resumed while still running: the stored state arrives, then live progress, then the result.
    await page.locator('[data-testid="job-report"][data-state="processing"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="job-report"][data-state="completed"]').waitFor({ timeout: 30_000 });
    expect(JSON.parse((await job('report').getByTestId('data').textContent()) ?? '')).toMatchObject({ summary: 'Report over 300 rows', rows: 300 });
    expect(await job('report').getByTestId('progress').getAttribute('data-value')).toBe('1');

    const liveAfterReload = frames.filter((f) => f.direction === 'received' && f.at >= reloadedAt && f.body.type === 'progress' && f.body.requestId === requestId);
    expect(liveAfterReload.length).toBeGreaterThan(0);
    // StrictMode mounts, unmounts and mounts again: still one subscription, never an unsubscribe.
    // (A later subscribe with afterSeq > 0 only asks for progress missed in a gap: the same subscription.)
    expect(subscriptionsTo(requestId, reloadedAt)).toHaveLength(1);
    expect(sent('unsubscribe', reloadedAt)).toHaveLength(0);
    expect(sent('generate_report', reloadedAt)).toHaveLength(0);
  });

  test('watches a request started elsewhere with one subscription, and unsubscribes on unmount', async () => {
    const elsewhere = new StreamerClient(runtime.wsUrl, { token });
    try {
      let requestId = '';
      const running = elsewhere.request('process_data', { items: 5, stepDelayMs: 700 }, { onAccepted: (id) => (requestId = id) });
      await waitFor(() => requestId !== '', 10_000);
      const watchedAt = Date.now();
      await page.getByTestId('watch-id').fill(requestId);
      await page.getByTestId('watch-toggle').click();
      await page.locator('[data-testid="watched"][data-state="processing"]').waitFor({ timeout: 10_000 });
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="watched"]')?.getAttribute('data-value')) > 0);
      // Mounted under StrictMode on an open connection: mount, unmount, mount sent ONE subscribe.
      expect(subscriptionsTo(requestId, watchedAt)).toHaveLength(1);
      expect(sent('unsubscribe', watchedAt)).toHaveLength(0);

      await page.getByTestId('watch-toggle').click();
      await waitFor(() => sent('unsubscribe', watchedAt).some((f) => f.body.payload?.requestId === requestId), 5_000);
      // Unmounting stopped watching, not the request: it finishes for its owner.
      await expect(running).resolves.toMatchObject({ processed: 5 });
    } finally {
      elsewhere.close();
    }
  });

  test('cancels another job on the server, and a reload shows it cancelled', async () => {
    await job('slow').getByTestId('start').click();
    await page.waitForFunction(() => ['queued', 'processing'].includes(document.querySelector('[data-testid="job-slow"]')?.getAttribute('data-state') ?? ''));
    const requestId = (await job('slow').getAttribute('data-request-id'))!;
    expect(requestId).toMatch(/\S+/);
    await job('slow').getByTestId('cancel').click();
    await page.locator('[data-testid="job-slow"][data-state="cancelled"]').waitFor({ timeout: 10_000 });
    expect(await job('slow').getByTestId('error').textContent()).toBe('CANCELLED');
    expect(sent('cancel').filter((f) => f.body.payload?.requestId === requestId)).toHaveLength(1);

    // The server stopped it: the same user reads it as cancelled from Node.
    const observer = new StreamerClient(runtime.wsUrl, { token });
    try {
      await waitFor(async () => (await observer.status(requestId)).status === 'cancelled', 15_000, 100);
    } finally {
      observer.close();
    }
    await page.reload();
    await page.locator(`[data-testid="job-slow"][data-resumed="true"][data-state="cancelled"][data-request-id="${requestId}"]`).waitFor({ timeout: 10_000 });
    // The finished report is read back as completed, too.
    await page.locator('[data-testid="job-report"][data-resumed="true"][data-state="completed"]').waitFor({ timeout: 10_000 });
    expect(pageErrors).toEqual([]);
  });
});
