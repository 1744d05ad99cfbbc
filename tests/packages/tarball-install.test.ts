/**
 * The packed packages as a user installs them: both tarballs go into a
 * scratch app outside the repository (`npm install <tarball>`), which then
 * type-checks against their .d.ts, runs a Node script against the real local
 * runtime, and bundles a browser page with esbuild that runs in Chromium.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { describeWithChromium, launchChromium } from '../support/chromium';
import { REPO_ROOT, startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';
import { createScratchApp, serveDirectory, type ScratchApp } from '../support/scratch-app';

const run = promisify(execFile);
const FIXTURES = join(__dirname, 'scratch-app');
jest.setTimeout(120_000);

let app: ScratchApp;
let runtime: LocalRuntimeHandle;

beforeAll(async () => {
  [app, runtime] = await Promise.all([createScratchApp(['ws', '@types/ws', '@types/node', '@types/react', 'react', 'react-dom']), startLocalRuntime()]);
  for (const file of ['node-script.mjs', 'browser-page.ts', 'only-error.ts', 'typed-app.ts', 'index.html']) copyFileSync(join(FIXTURES, file), join(app.dir, file));
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
  app?.remove();
});

describe('the installed @streamer/client and @streamer/react', () => {
  test('their manifests declare ESM entries with types, an exports map and no side effects', () => {
    for (const name of ['client', 'react']) {
      const manifest = JSON.parse(readFileSync(join(app.dir, 'node_modules', '@streamer', name, 'package.json'), 'utf8'));
      expect(manifest).toMatchObject({ name: `@streamer/${name}`, type: 'module', sideEffects: false });
      expect(manifest.exports['.']).toBeDefined();
    }
    const react = JSON.parse(readFileSync(join(app.dir, 'node_modules', '@streamer', 'react', 'package.json'), 'utf8'));
    expect(react.peerDependencies).toMatchObject({ react: '^18.0.0 || ^19.0.0', '@streamer/client': expect.stringMatching(/^\^\d/) });
  });

  test('the client holds no server code: only client/ and the protocol modules it shares with the server', () => {
    const shared = /^functions\/core\/(aws-limits|errors|protocol\/[a-z-]+)\.ts$/;
    for (const bundle of ['index.mjs', 'node.mjs']) {
      const map = JSON.parse(readFileSync(join(app.dir, 'node_modules', '@streamer', 'client', `${bundle}.map`), 'utf8')) as { sources: string[] };
      const sources = map.sources.map((source) => source.replace(/^(\.\.\/)+/, ''));
      expect(sources.filter((source) => !source.startsWith('client/') && !shared.test(source))).toEqual([]);
    }
  });

  test('an app type-checks against their declarations: typed actions, typed hooks, wrong calls refused', async () => {
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom'];
    const result = await run(process.execPath, [tsc, ...flags, 'typed-app.ts'], { cwd: app.dir }).catch((error: { stdout: string }) => error);
    expect(result.stdout).toBe('');
  });

  test('a Node script runs requests with progress against the local runtime', async () => {
    const token = runtime.mintToken({ sub: 'scratch-node', tenant: 'demo' });
    const { stdout } = await run(process.execPath, ['node-script.mjs'], {
      cwd: app.dir,
      env: { ...process.env, STREAMER_URL: runtime.wsUrl, STREAMER_TOKEN: token },
      timeout: 60_000,
    });
    const outcome = JSON.parse(stdout.trim().split('\n').at(-1)!);
    // Under Node, the `node` export condition picks the entry that brings `ws`.
    expect(outcome.entry).toMatch(/node_modules\/@streamer\/client\/node\.mjs$/);
    expect(outcome.echoed).toEqual({ hello: 'from a scratch app' });
    expect(outcome.report).toMatchObject({ summary: 'Report over 42 rows', rows: 42 });
    expect(outcome.progress.length).toBeGreaterThan(0);
    expect(outcome.progress).toEqual([...outcome.progress].sort((a: number, b: number) => a - b));
    expect(outcome.refused).toEqual({ isStreamerError: true, code: 'VALIDATION_ERROR' });
  });

  test('a browser bundle takes the browser entry, with no Node built-ins and no ws', async () => {
    const metafile = await app.bundleForBrowser('browser-page.ts', 'page.js');
    const inputs = Object.keys(metafile.inputs);
    expect(inputs).toContain('node_modules/@streamer/client/index.mjs');
    expect(inputs.filter((input) => input.includes('node.mjs') || input.includes('/ws/'))).toEqual([]);
    const imports = Object.values(metafile.outputs).flatMap((output) => output.imports.map((i) => i.path));
    expect(imports).toEqual([]);
  });

  test('importing one export leaves the client out of the bundle', async () => {
    await app.bundleForBrowser('only-error.ts', 'only-error.js');
    const bundle = readFileSync(join(app.dir, 'public', 'only-error.js'), 'utf8');
    expect(bundle).toContain('tree-shaken');
    expect(bundle).not.toContain('No WebSocket implementation');
  });
});

describeWithChromium()('the bundled browser page in Chromium', () => {
  let browser: Browser;

  afterAll(async () => {
    await browser?.close();
  });

  test('runs a request through the installed browser entry', async () => {
    mkdirSync(join(app.dir, 'public'), { recursive: true });
    await app.bundleForBrowser('browser-page.ts', 'page.js');
    copyFileSync(join(app.dir, 'index.html'), join(app.dir, 'public', 'index.html'));
    const server = await serveDirectory(join(app.dir, 'public'));
    try {
      browser = await launchChromium();
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      const token = runtime.mintToken({ sub: 'scratch-browser', tenant: 'demo' });
      await page.goto(`${server.url}/?url=${encodeURIComponent(runtime.wsUrl)}&token=${encodeURIComponent(token)}`);
      await page.locator('[data-testid="out"][data-state="done"]').waitFor({ timeout: 20_000 });
      expect(JSON.parse((await page.getByTestId('out').textContent()) ?? '')).toEqual({ from: 'a browser page' });
      expect(errors).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
