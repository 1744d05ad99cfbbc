/**
 * The synth command (bundled by `scripts/synth.mjs`, run with node):
 *
 *   synth [--stack <name>] [--out <file>] [--diff <other.json>] [--json]
 *         [--stack-file <Pulumi.x.yaml>] [--account <id>] [--root <dir>]
 *
 * Writes the manifest of one stack (default `local`, to
 * `dist/deployment.json`; another stack to `dist/deployment.<stack>.json`).
 * With `--diff`, also prints what changed from `<other.json>` to this
 * manifest (`--json`: the diff as JSON, for CI). One stack per process:
 * Pulumi's runtime state is global.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { diffManifests, diffToJson, formatDiff } from './diff';
import { renderManifest, serializeManifest, type DeploymentManifest } from './manifest';
import { LOCAL_STACK, loadStackConfig } from './stack-config';

/** The command line, parsed. */
interface SynthArguments {
  readonly root: string;
  readonly stack: string;
  readonly out: string;
  readonly stackFile?: string;
  readonly diffWith?: string;
  readonly json: boolean;
  readonly accountId?: string;
}

/** Thrown for a command line synth cannot follow. */
class SynthUsageError extends Error {
  constructor(detail: string) {
    super(`${detail}\nusage: npm run synth -- [--stack <name>] [--out <file>] [--diff <other.json>] [--json] [--stack-file <file>] [--account <id>]`);
    this.name = 'SynthUsageError';
  }
}

/** Where a stack's manifest goes unless `--out` says otherwise. */
function defaultOutFile(stack: string): string {
  return path.join('dist', stack === LOCAL_STACK ? 'deployment.json' : `deployment.${stack}.json`);
}

const VALUED = new Set(['--stack', '--out', '--diff', '--stack-file', '--account', '--root']);

/** Parses `argv` (without node and the script). Relative paths are relative to `cwd`. */
function parseArguments(argv: readonly string[], cwd: string): SynthArguments {
  const values = new Map<string, string>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (flag === '--json') {
      json = true;
    } else if (VALUED.has(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new SynthUsageError(`${flag} needs a value`);
      values.set(flag, value);
    } else {
      throw new SynthUsageError(`unknown argument ${argv[i]}`);
    }
  }
  const root = path.resolve(cwd, values.get('--root') ?? '.');
  const stack = values.get('--stack') ?? LOCAL_STACK;
  const fromCwd = (file: string | undefined): string | undefined => (file === undefined ? undefined : path.resolve(cwd, file));
  return {
    root,
    stack,
    out: fromCwd(values.get('--out')) ?? path.join(root, defaultOutFile(stack)),
    stackFile: fromCwd(values.get('--stack-file')),
    diffWith: fromCwd(values.get('--diff')),
    json,
    accountId: values.get('--account'),
  };
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2), process.cwd());
  const config = loadStackConfig({ root: args.root, stack: args.stack, stackFile: args.stackFile });
  const manifest = await renderManifest({ root: args.root, config, accountId: args.accountId });
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, serializeManifest(manifest));
  const relative = path.relative(process.cwd(), args.out);
  const where = relative.startsWith('..') ? args.out : relative;
  // With --json, stdout carries only the diff, so a CI step can parse it.
  const log = args.json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => process.stdout.write(`${line}\n`);
  log(`synth: ${manifest.stack} → ${where} (${manifest.resources.length} resources) in ${Math.round(process.uptime() * 1000)} ms`);
  if (args.diffWith !== undefined) {
    const before = JSON.parse(fs.readFileSync(args.diffWith, 'utf8')) as DeploymentManifest;
    const diff = diffManifests(before, manifest);
    process.stdout.write(args.json ? diffToJson(diff) : formatDiff(diff));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`synth failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
