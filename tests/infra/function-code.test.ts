/**
 * The program builds what it ships: each function bundled while the program
 * runs, deterministically, so an unchanged tree deploys byte-identical
 * archives and an edit shows as exactly the functions whose code it changed;
 * prebuilt bundles are checked against the sources and refused when stale.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { FUNCTION_NAMES } from '../../functions/core/function-declarations';
import { buildFunctionBundles, directoryHash, StaleBundleError, verifyPrebuiltBundles } from '../../infra/function-bundles';
import { ROOT, runWithDefaults, unwrapSecret } from './pulumi-program';

const run = promisify(execFile);
const DEV_STACK_FILE = path.join(ROOT, 'tests/fixtures/synth/Pulumi.dev.yaml');
/** A synth is a node process bundling four functions and loading the AWS SDK for Pulumi: seconds, more on a busy machine. */
const SLOW_MS = 120_000;

let tree: string;

/** A copy of the project's sources (node_modules linked), to edit without touching the real tree. */
function copyTree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamer-tree-'));
  for (const entry of ['functions', 'Pulumi.yaml', 'tsconfig.json', 'package.json']) {
    fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(dir, 'node_modules'));
  return dir;
}

/** Changes what connect's code does (a comment would be minified away). */
function editConnect(root: string): void {
  const entry = path.join(root, 'functions/connect/index.ts');
  fs.appendFileSync(entry, '\nexport const editedForTest = "a change that reaches the bundle";\n');
}

beforeAll(() => {
  tree = copyTree();
});
afterAll(() => fs.rmSync(tree, { recursive: true, force: true }));

describe('a build', () => {
  it('gives byte-identical bundles, with the same hashes, when an unchanged tree is built twice', () => {
    const first = buildFunctionBundles({ root: tree, outDir: path.join(tree, 'out-1'), settings: { sourceMaps: false } });
    const second = buildFunctionBundles({ root: tree, outDir: path.join(tree, 'out-2'), settings: { sourceMaps: false } });
    for (const fn of FUNCTION_NAMES) {
      expect(second[fn].codeHash).toBe(first[fn].codeHash);
      expect(second[fn].sourceHash).toBe(first[fn].sourceHash);
      expect(directoryHash(second[fn].dir)).toBe(first[fn].codeHash);
      expect(fs.readFileSync(path.join(second[fn].dir, 'index.js')).equals(fs.readFileSync(path.join(first[fn].dir, 'index.js')))).toBe(true);
    }
  }, SLOW_MS);

  it('ships source maps only when asked', () => {
    const withMaps = buildFunctionBundles({ root: tree, outDir: path.join(tree, 'maps'), settings: { sourceMaps: true }, functions: ['connect'] });
    expect(fs.existsSync(path.join(withMaps.connect.dir, 'index.js.map'))).toBe(true);
    expect(fs.existsSync(path.join(tree, 'out-1', 'connect', 'index.js.map'))).toBe(false);
    // The tracer, loaded on demand, travels beside every bundle.
    expect(fs.existsSync(path.join(withMaps.connect.dir, 'node_modules/@aws-lambda-powertools/tracer/index.js'))).toBe(true);
  }, SLOW_MS);
});

describe('prebuilt bundles', () => {
  let prebuilt: string;
  beforeAll(() => {
    prebuilt = path.join(tree, 'prebuilt');
    buildFunctionBundles({ root: tree, outDir: prebuilt, settings: { sourceMaps: false } });
  }, SLOW_MS);

  it('are accepted while the sources are the ones they were built from', () => {
    const bundles = verifyPrebuiltBundles(tree, prebuilt, { sourceMaps: false });
    expect(Object.keys(bundles).sort()).toEqual([...FUNCTION_NAMES].sort());
  });

  it('are refused when the stack asks for other settings', () => {
    expect(() => verifyPrebuiltBundles(tree, prebuilt, { sourceMaps: true })).toThrow('built with source maps off, the stack has streamer:sourceMaps true');
  });

  it('are refused when a bundle was changed after the build', () => {
    const copy = path.join(tree, 'tampered');
    fs.cpSync(prebuilt, copy, { recursive: true });
    fs.appendFileSync(path.join(copy, 'router', 'index.js'), '\n// patched by hand\n');
    expect(() => verifyPrebuiltBundles(tree, copy, { sourceMaps: false })).toThrow(`router: ${path.join(copy, 'router')} was modified after it was built`);
  });

  it('are refused once a source changes, naming the file, the stale functions and what to do', () => {
    const edited = copyTree();
    try {
      const out = path.join(edited, 'prebuilt');
      buildFunctionBundles({ root: edited, outDir: out, settings: { sourceMaps: false } });
      editConnect(edited);
      let error: unknown;
      try {
        verifyPrebuiltBundles(edited, out, { sourceMaps: false });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(StaleBundleError);
      const { message, problems } = error as StaleBundleError;
      expect(problems).toEqual(['connect: built from other sources; changed since: functions/connect/index.ts']);
      expect(message).toContain('Rebuild them from these sources (`npm run build` writes dist/), or unset streamer:prebuiltBundles');
    } finally {
      fs.rmSync(edited, { recursive: true, force: true });
    }
  }, SLOW_MS);
});

describe('the program', () => {
  it('bundles each function itself when no prebuilt folder is set, with source maps when the stack turns them on', async () => {
    const program = await runWithDefaults({ prebuiltBundles: '', sourceMaps: 'true' }, { stack: 'maps-on' });
    for (const fn of FUNCTION_NAMES) {
      const inputs = program.named('aws:lambda/function:Function', `streamer-${fn}`).inputs;
      const dir = path.join(ROOT, 'dist/stacks/maps-on', fn);
      expect(fs.existsSync(path.join(dir, 'index.js.map'))).toBe(true);
      expect(inputs.code).toMatchObject({ __pulumiArchive: true });
      expect(await (inputs.code as { path: Promise<string> }).path).toBe(path.relative(process.cwd(), dir));
      expect((unwrapSecret(inputs.environment).value as { variables: Record<string, string> }).variables.NODE_OPTIONS).toBe('--enable-source-maps');
    }
  }, SLOW_MS);
});

describe('npm run synth -- --diff', () => {
  /** Runs the synth command on the copied tree; returns stdout. */
  async function synth(args: readonly string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'scripts/synth.mjs'), '--root', tree, '--stack', 'dev', '--stack-file', DEV_STACK_FILE, ...args], {
      env: { ...process.env, STREAMER_JWT_SECRET: '' },
    });
    return stdout;
  }

  it('shows nothing when nothing was edited, and exactly the changed function’s code after an edit', async () => {
    const before = path.join(tree, 'before.json');
    await synth(['--out', before]);
    const unchanged = await synth(['--out', path.join(tree, 'again.json'), '--diff', before]);
    expect(unchanged).toMatch(/\nno changes\n?$/);

    editConnect(tree);
    const edited = await synth(['--out', path.join(tree, 'after.json'), '--diff', before]);
    const lines = edited.trim().split('\n').slice(1);
    expect(lines).toEqual([
      '~ aws:lambda/function:Function streamer-connect',
      expect.stringMatching(/^ {4}code: dist\/stacks\/dev\/connect \(sha256 [0-9a-f]{12}…\) → dist\/stacks\/dev\/connect \(sha256 [0-9a-f]{12}…\)$/),
      'resources: 1 to change',
    ]);
  }, 3 * SLOW_MS);

  it('shows a handler edit as a change to the two functions that run handlers, router and processor, only', async () => {
    const before = path.join(tree, 'before-handler.json');
    await synth(['--out', before]);
    const echo = path.join(tree, 'functions/handlers/echo.ts');
    fs.writeFileSync(echo, fs.readFileSync(echo, 'utf8').replace("'Returns its payload (sync).'", "'Returns its payload (sync), edited.'"));
    const edited = await synth(['--out', path.join(tree, 'after-handler.json'), '--diff', before]);
    const changed = edited.split('\n').filter((line) => line.startsWith('~ '));
    expect(changed).toEqual(['~ aws:lambda/function:Function streamer-processor', '~ aws:lambda/function:Function streamer-router']);
    expect(edited).toMatch(/resources: 2 to change\n?$/);
  }, 3 * SLOW_MS);
});
