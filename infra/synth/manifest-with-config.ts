/**
 * The `local` stack's manifest rendered with extra stack config, as
 * `pulumi config set` would give it: for tests and benchmarks that run the
 * local runtime on a tuned deployment. Synth runs in its own process (the
 * Pulumi runtime is a module singleton) from the built `dist/synth/index.js`;
 * each distinct config is rendered once and cached under
 * `dist/test-manifests/`, again when the build's manifest is newer.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ManifestWithConfigOptions {
  /** The project root (holds Pulumi.yaml and dist/). */
  readonly root: string;
  /** `streamer:*` keys without the prefix. */
  readonly config: Readonly<Record<string, string>>;
  /** The HS256 secret the stack file names (the local default holds the development one). */
  readonly jwtSecret: string;
}

export function manifestWithConfig({ root, config, jwtSecret }: ManifestWithConfigOptions): string {
  const buildManifest = join(root, 'dist', 'deployment.json');
  const keys = Object.keys(config).sort();
  if (keys.length === 0) return buildManifest;
  // A stack file replaces the local default, which is where the development secret and the
  // build's bundles (dist/, with source maps) come from: name them again, unless the config does.
  const values: Record<string, string> = {
    'streamer:prebuiltBundles': 'dist',
    'streamer:sourceMaps': 'true',
    ...Object.fromEntries(keys.map((key) => [`streamer:${key}`, config[key]!])),
  };
  if (values['streamer:jwtSecretParameter'] === undefined && values['streamer:jwksUrl'] === undefined && values['streamer:jwtPublicKey'] === undefined) {
    values['streamer:jwtSecret'] = jwtSecret;
  }
  const digest = createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 16);
  const dir = join(root, 'dist', 'test-manifests');
  const out = join(dir, `${digest}.json`);
  if (existsSync(out) && existsSync(buildManifest) && statSync(out).mtimeMs >= statSync(buildManifest).mtimeMs) return out;
  mkdirSync(dir, { recursive: true });
  const stackFile = join(dir, `Pulumi.${digest}.yaml`);
  writeFileSync(stackFile, `config:\n${Object.entries(values).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`).join('\n')}\n`);
  // Rendered beside the target and renamed: parallel test workers never read a half-written manifest.
  const staging = join(dir, `.${digest}.${process.pid}.json`);
  const synth = spawnSync(
    process.execPath,
    [join(root, 'dist', 'synth', 'index.js'), '--root', root, '--stack', 'local', '--stack-file', stackFile, '--out', staging],
    { encoding: 'utf8' },
  );
  if (synth.status !== 0) throw new Error(`synth with ${JSON.stringify(config)} failed:\n${synth.stdout}${synth.stderr}`);
  renameSync(staging, out);
  return out;
}
