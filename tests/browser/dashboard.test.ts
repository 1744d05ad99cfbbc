/**
 * The dashboard in a real headless Chromium, served by the real local
 * runtime: connect, run a report to 100 %, cancel another one.
 * Needs Debian's chromium at /usr/bin/chromium (scripts/install-browser.sh);
 * without it the test is skipped, loudly — it never installs anything.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWithChromium, launchChromium } from '../support/chromium';
import { REPO_ROOT, startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';

const SCREENSHOTS = join(__dirname, 'screenshots');
const describeWithBrowser = describeWithChromium();
jest.setTimeout(90_000);

describeWithBrowser('dashboard in Chromium', () => {
  let runtime: LocalRuntimeHandle;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureDashboardBuilt();
    runtime = await startLocalRuntime();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 400) pageErrors.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${runtime.httpUrl}/?sub=browser-test&tenant=demo`);
    await page.locator('[data-testid="connection-state"][data-state="open"]').waitFor({ timeout: 15_000 });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('runs generate_report with a live progress bar up to 100 %', async () => {
    await page.getByTestId('action-select').selectOption('generate_report');
    await page.getByTestId('payload-input').fill('{"rows": 2500, "stepDelayMs": 250}');
    await page.getByTestId('start-button').click();

    const row = page.getByTestId('request-row').first();
    // Live progress: the bar moves before the request completes.
    await row.locator('[data-testid="progress-bar"]:not([aria-valuenow="0"])').waitFor({ timeout: 15_000 });
    expect(await row.getAttribute('data-status')).toBe('processing');
    await page.locator('[data-testid="request-row"][data-status="completed"]').first().waitFor({ timeout: 30_000 });
    await expect(row.getByTestId('progress-bar').getAttribute('aria-valuenow')).resolves.toBe('100');
    await expect(row.getByTestId('progress-text').textContent()).resolves.toBe('100%');
    expect(await row.getAttribute('data-request-id')).toMatch(/\S+/);
    await expect(row.getByTestId('request-detail').textContent()).resolves.toContain('Report over 2500 rows');

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-report-complete.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  test('cancels a running request from its row', async () => {
    await page.getByTestId('action-select').selectOption('process_data');
    await page.getByTestId('payload-input').fill('{"items": 10, "stepDelayMs": 2000}');
    await page.getByTestId('start-button').click();
    const row = page.getByTestId('request-row').first();
    // Cancel once the server has accepted it (an ack or progress arrived), so the server really stops work.
    await page.waitForFunction(
      () => ['queued', 'processing'].includes((document.querySelector('[data-testid="request-row"]') as HTMLElement | null)?.dataset.status ?? ''),
      undefined,
      { timeout: 15_000 },
    );
    await row.getByTestId('cancel-button').click();
    await page.locator('[data-testid="request-row"][data-status="cancelled"]').first().waitFor({ timeout: 15_000 });
    await expect(row.getByTestId('cancel-button').isDisabled()).resolves.toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-cancelled.png'), fullPage: true });
  });

  test('a sync echo completes at once', async () => {
    await page.getByTestId('action-select').selectOption('echo');
    await page.getByTestId('payload-input').fill('{"ping": "pong"}');
    await page.getByTestId('start-button').click();
    const row = page.getByTestId('request-row').first();
    await page.locator('[data-testid="request-row"][data-status="completed"]').first().waitFor({ timeout: 10_000 });
    await expect(row.getByTestId('request-detail').textContent()).resolves.toContain('"ping": "pong"');
  });
});

/** Rebuilds dist/dashboard (and dist/client) when missing or older than client/. */
function ensureDashboardBuilt(): void {
  const bundle = join(REPO_ROOT, 'dist', 'dashboard', 'app.js');
  const newestSource = Math.max(...newestMtimes(join(REPO_ROOT, 'client')), statSync(join(REPO_ROOT, 'scripts', 'build-client.mjs')).mtimeMs);
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource) return;
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-client.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`building the dashboard failed:\n${result.stdout}\n${result.stderr}`);
}

function newestMtimes(dir: string): number[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? newestMtimes(path) : [statSync(path).mtimeMs];
  });
}
