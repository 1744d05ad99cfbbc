/**
 * A scratch application outside the repository that installs the packed
 * tarballs (dist/packages/*.tgz) as a user's app would, bundles pages with
 * esbuild against what it installed, and serves them over loopback.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { REPO_ROOT } from './local-runtime';

const run = promisify(execFile);
export const PACKAGES_DIR = join(REPO_ROOT, 'dist', 'packages');

export interface ScratchApp {
  readonly dir: string;
  /** Bundles `entry` (a path inside the app) for browsers into `<dir>/public/<outName>`; returns what went in. */
  bundleForBrowser(entry: string, outName: string): Promise<Metafile>;
  remove(): void;
}

/** The tarballs `npm run build` packed; rebuilt when missing or older than client/ or packages/. */
export function ensurePackagesBuilt(): { client: string; react: string } {
  const tarball = (name: string) => readdirSync(PACKAGES_DIR).find((file) => file.startsWith(`streamer-${name}-`) && file.endsWith('.tgz'));
  // The packages' sources: client/ and the protocol modules of functions/core it imports.
  const newestSource = Math.max(
    ...['client', 'packages', 'functions/core/protocol'].flatMap((dir) => newestMtimes(join(REPO_ROOT, dir))),
    ...['functions/core/aws-limits.ts', 'functions/core/errors.ts', 'scripts/build-client.mjs', 'scripts/build-packages.mjs'].map(
      (file) => statSync(join(REPO_ROOT, file)).mtimeMs,
    ),
  );
  const fresh = existsSync(PACKAGES_DIR) && ['client', 'react'].every((name) => {
    const file = tarball(name);
    return file !== undefined && statSync(join(PACKAGES_DIR, file)).mtimeMs >= newestSource;
  });
  if (!fresh) {
    for (const script of ['build-client.mjs', 'build-packages.mjs']) {
      const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', script)], { cwd: REPO_ROOT, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`scripts/${script} failed:\n${result.stdout}\n${result.stderr}`);
    }
  }
  return { client: join(PACKAGES_DIR, tarball('client')!), react: join(PACKAGES_DIR, tarball('react')!) };
}

/**
 * A fresh app in the system temp folder with both tarballs installed, plus
 * `extra` packages: `name@version` as given, a bare name at the version this
 * repository uses (so npm finds it in its cache).
 */
export async function createScratchApp(extra: readonly string[]): Promise<ScratchApp> {
  const tarballs = ensurePackagesBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'streamer-scratch-app-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }, null, 2));
  const specs = extra.map((spec) => (spec.lastIndexOf('@') > 0 ? spec : `${spec}@${installedVersion(spec)}`));
  // The app's own npm, not the test runner's settings (`npm test` exports npm_config_* of this repository).
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', tarballs.client, tarballs.react, ...specs], {
    cwd: dir,
    env,
    timeout: 120_000,
  });
  return {
    dir,
    bundleForBrowser: async (entry, outName) => {
      const { build } = await import('esbuild');
      const result = await build({
        entryPoints: [join(dir, entry)],
        outfile: join(dir, 'public', outName),
        absWorkingDir: dir,
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2020',
        jsx: 'automatic',
        define: { 'process.env.NODE_ENV': '"development"' },
        metafile: true,
        logLevel: 'error',
      });
      return result.metafile;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Serves `dir` on 127.0.0.1 at a free port. */
export async function serveDirectory(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json' };
  const root = resolve(dir);
  const server: Server = createServer((request, response) => {
    const path = normalize(join(root, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)));
    const file = path.endsWith(sep) ? join(path, 'index.html') : path;
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    response.end(readFileSync(file));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((closed) => server.close(() => closed())),
  };
}

function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

function newestMtimes(dir: string): number[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? newestMtimes(path) : [statSync(path).mtimeMs];
  });
}
