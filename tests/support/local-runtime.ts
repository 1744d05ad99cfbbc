/**
 * Starts the local runtime the way a developer does (`node dist/local/index.js`),
 * as a child process on a free port, for integration tests. The child can be
 * stopped gracefully (`stop`) or killed outright (`process.kill('SIGKILL')`);
 * either way no Java or Node process is left behind.
 *
 * The bundle is rebuilt first when it is missing or older than `local/`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { manifestWithConfig } from '../../infra/synth/manifest-with-config';
import { type DeploymentManifest, readManifest } from '../../local/deployment';
import { devJwtSecret, mintDevToken } from '../../local/dev-token';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const LOCAL_BUNDLE = join(REPO_ROOT, 'dist', 'local', 'index.js');
/** The Lambda container bootstrap the runtime starts each function's workers from. */
export const CONTAINER_BUNDLE = join(REPO_ROOT, 'dist', 'local', 'lambda-container.js');
/** Small stand-in function bundles for tests that must not depend on the real functions. */
export const FIXTURE_FUNCTIONS_DIR = join(REPO_ROOT, 'tests', 'local', 'fixtures', 'functions');

/** The manifest `npm run build` renders for the `local` stack. */
export const DEFAULT_MANIFEST = join(REPO_ROOT, 'dist', 'deployment.json');
/** Grants the runtime saw used during the test run, for `npm run iam-report`. */
export const IAM_USAGE_FILE = join(REPO_ROOT, '.streamer', 'iam-usage.jsonl');

export interface LocalRuntimeOptions {
  /**
   * Environment of the runtime process (its own settings, `STREAMER_LOCAL_*`).
   * The functions never see it: they get exactly what the manifest gives them.
   */
  readonly env?: Record<string, string>;
  /**
   * Stack config (`streamer:*` keys without the prefix) to render the
   * deployment with, as `pulumi config set` would: the real program is
   * synthesized with it and the runtime runs that manifest.
   */
  readonly stack?: Record<string, string>;
  /**
   * Changes the rendered manifest before the runtime boots it (a role with a
   * statement removed, a fixture grant added): the runtime runs whatever
   * deployment it is given, exactly.
   */
  readonly editManifest?: (manifest: DeploymentManifest) => DeploymentManifest;
  /** Keep DynamoDB data in this folder (`--persist`). */
  readonly persistDir?: string;
  readonly readyTimeoutMs?: number;
}

export interface LocalRuntimeHandle {
  readonly wsUrl: string;
  readonly httpUrl: string;
  readonly port: number;
  readonly dynamodbEndpoint: string;
  readonly process: ChildProcess;
  /** Everything the runtime printed so far (stdout and stderr). */
  output(): string;
  mintToken(claims: { sub: string; tenant: string; permissions?: readonly string[] }): string;
  /** The manifest the runtime runs. */
  readonly manifest: DeploymentManifest;
  /** A table's physical name in that deployment (`connections` → `streamer-connections-1a2b3c4`). */
  tableName(logical: string): string;
  /** A function's physical name (`router` → `streamer-local-router`). */
  functionName(logical: string): string;
  listConnections(): Promise<Array<{ connectionId: string; connectedAt: number; sourceIp: string }>>;
  /** Closes a connection from the server side through the `@connections` API. */
  dropConnection(connectionId: string): Promise<void>;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntimeHandle> {
  await ensureLocalBundle();
  const dataDir = mkdtempSync(join(tmpdir(), 'streamer-local-test-'));
  const rendered = manifestWithConfig({ root: REPO_ROOT, config: options.stack ?? {}, jwtSecret: options.env?.STREAMER_JWT_SECRET ?? devJwtSecret() });
  const manifest = options.editManifest ? join(dataDir, 'deployment.json') : rendered;
  const deployed = options.editManifest ? options.editManifest(readManifest(rendered)) : readManifest(rendered);
  if (options.editManifest) writeFileSync(manifest, JSON.stringify(deployed));
  const args = [LOCAL_BUNDLE, '--port', '0', '--manifest', manifest, ...(options.persistDir ? ['--persist', options.persistDir] : [])];
  const env = {
    ...process.env,
    STREAMER_LOCAL_DATA_DIR: dataDir,
    STREAMER_LOCAL_IAM_USAGE_FILE: IAM_USAGE_FILE,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...options.env,
  };
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  void exited.then(() => {
    running.delete(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ready = await new Promise<{ wsUrl: string; httpUrl: string; port: number; dynamodbEndpoint: string }>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`local runtime not ready within ${options.readyTimeoutMs ?? 30_000} ms:\n${output}`));
    }, options.readyTimeoutMs ?? 30_000);
    const onData = (): void => {
      const line = output.split('\n').find((candidate) => candidate.startsWith('STREAMER_READY '));
      if (!line) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolveReady(JSON.parse(line.slice('STREAMER_READY '.length)));
    };
    child.stdout!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`local runtime exited before ready (code ${child.exitCode}):\n${output}`));
    });
  });

  const secret = options.env?.STREAMER_JWT_SECRET;
  return {
    ...ready,
    process: child,
    output: () => output,
    manifest: deployed,
    tableName: (logical) => physicalName(deployed, 'aws:dynamodb/table:Table', logical),
    functionName: (logical) => physicalName(deployed, 'aws:lambda/function:Function', logical),
    mintToken: ({ sub, tenant, permissions }) => mintDevToken({ sub, tenant, permissions, ...(secret && { secret }) }),
    listConnections: async () => {
      const response = await fetch(`${ready.httpUrl}/_local/connections`);
      return (await response.json()) as Array<{ connectionId: string; connectedAt: number; sourceIp: string }>;
    },
    dropConnection: async (connectionId) => {
      // `@connections` answers only signed calls from a function's role; the runtime's own close is a local-only route.
      const response = await fetch(`${ready.httpUrl}/_local/connections/${encodeURIComponent(connectionId)}`, { method: 'DELETE' });
      if (response.status !== 204) throw new Error(`DELETE /_local/connections/${connectionId} answered ${response.status}`);
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Rebuilds the runtime's bundles (as scripts/build.mjs does) when missing or stale:
 * `dist/local/index.js` and the Lambda container bootstrap beside it.
 */
export async function ensureLocalBundle(): Promise<void> {
  // The runtime's sources: local/ and what it imports from functions/core (shapes, env, metric names, …).
  const newestSource = Math.max(...newestMtimes(join(REPO_ROOT, 'local')), ...newestMtimes(join(REPO_ROOT, 'functions', 'core')));
  const bundles = [
    { entry: join(REPO_ROOT, 'local', 'main.ts'), outfile: LOCAL_BUNDLE },
    { entry: join(REPO_ROOT, 'local', 'lambda-container-worker.ts'), outfile: CONTAINER_BUNDLE },
  ];
  const stale = bundles.filter(({ outfile }) => !existsSync(outfile) || statSync(outfile).mtimeMs < newestSource);
  if (stale.length === 0) return;
  const { build } = await import('esbuild');
  mkdirSync(dirname(LOCAL_BUNDLE), { recursive: true });
  for (const { entry, outfile } of stale) {
    // Build beside the target and rename: parallel test workers never see a half-written bundle.
    const staging = join(dirname(outfile), `.${basename(outfile, '.js')}.${process.pid}.js`);
    await build({
      entryPoints: [entry],
      outfile: staging,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      external: ['fsevents'],
      logLevel: 'error',
      absWorkingDir: REPO_ROOT,
    });
    renameSync(staging, outfile);
  }
}

function newestMtimes(dir: string): number[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return newestMtimes(path);
    return entry.name.endsWith('.ts') ? [statSync(path).mtimeMs] : [];
  });
}

/** The physical name of the resource whose logical name is `streamer-<logical>`. */
function physicalName(manifest: DeploymentManifest, type: string, logical: string): string {
  const resource = manifest.resources.find((candidate) => candidate.type === type && candidate.name === `streamer-${logical}`);
  const name = resource?.outputs.name;
  if (typeof name !== 'string') throw new Error(`the manifest has no ${type} streamer-${logical}`);
  return name;
}
