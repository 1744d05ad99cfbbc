/**
 * Bundling the Lambda functions: the one module both the Pulumi program
 * (`infra/function-code.ts`, while `pulumi preview`/`up` runs) and
 * `scripts/build.mjs` (the local runtime's `dist/`) build with, so the code
 * a stack ships and the code the tests run come from the same esbuild
 * options.
 *
 * A build is deterministic: the same sources, options and esbuild version
 * give byte-identical files, so an unchanged tree gives Pulumi archives with
 * the same hash and `pulumi preview` shows no code change. Each build writes
 * a record beside the bundle folder (`<fn>.bundle.json`, not shipped): the
 * hash of every input file esbuild read (the function's own sources and the
 * `node_modules` files it bundled), the options, and the hash of the output.
 * {@link verifyPrebuiltBundles} checks a folder built elsewhere (a CI
 * artifact) against the sources in front of it, so a stale bundle is refused
 * instead of deployed.
 *
 * Powertools Tracer (with aws-xray-sdk-core) is bundled on its own and copied
 * beside each function at `node_modules/@aws-lambda-powertools/tracer/`, where
 * Node resolves the function's `require` of it: only a function with tracing
 * on loads it (functions/tracing.ts).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync, version as esbuildVersion, type BuildOptions, type Metafile, type OutputFile } from 'esbuild';
import { FUNCTION_NAMES, type FunctionName } from '../functions/core/function-declarations';

export { FUNCTION_NAMES };

/** Modules a function loads on demand, shipped beside its bundle instead of inside it. */
export const ON_DEMAND_MODULES: readonly string[] = ['@aws-lambda-powertools/tracer'];

/** What may differ between two builds of the same sources. */
export interface BundleSettings {
  /** Write `index.js.map` beside each bundle (deployed functions then run with `--enable-source-maps`). */
  readonly sourceMaps: boolean;
}

/** One function's built code. */
export interface FunctionBundle {
  readonly fn: FunctionName;
  /** The folder to archive: `index.js` (+ map) and the on-demand modules. */
  readonly dir: string;
  /** SHA-256 of every file in `dir` (paths and contents): equal hashes, byte-identical archives. */
  readonly codeHash: string;
  /** SHA-256 of every input esbuild read and the options it read them with. */
  readonly sourceHash: string;
  readonly bytes: number;
}

/** What a build leaves beside each bundle folder, to check it against the sources later. */
interface BundleRecord {
  readonly recordVersion: 1;
  readonly function: FunctionName;
  readonly esbuild: string;
  readonly settings: BundleSettings;
  readonly sourceHash: string;
  readonly codeHash: string;
  /** Each input, relative to the project root, with the SHA-256 of its contents. */
  readonly inputs: Readonly<Record<string, string>>;
}

const RECORD_VERSION = 1;

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * The esbuild options of one function's bundle: the ONE set every build
 * uses (the Pulumi program, `npm run build`, `npm run dev`'s incremental
 * rebuilds through scripts/function-bundle.mjs). Nothing is written
 * (`write: false`); the metafile lists the inputs for the source hash.
 *
 * @param functionsDir where `<fn>/index.ts` is (a test's copy); defaults to `<root>/functions`.
 */
export function functionBuildOptions(root: string, fn: FunctionName, settings: BundleSettings, functionsDir?: string): BuildOptions {
  return {
    entryPoints: [functionsDir === undefined ? `functions/${fn}/index.ts` : path.join(functionsDir, fn, 'index.ts')],
    absWorkingDir: root,
    // Packages resolve from the root's node_modules even for sources outside it.
    nodePaths: [path.join(root, 'node_modules')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    // The Lambda runtime (nodejs22.x) ships no AWS SDK we rely on: bundle ours so the deployed
    // code is exactly the tested code. Minified, preferring packages' ES module builds, which
    // esbuild can tree-shake (the AWS SDK's shrink by a third): short cold starts.
    target: 'node22',
    minify: true,
    mainFields: ['module', 'main'],
    external: [...ON_DEMAND_MODULES],
    sourcemap: settings.sourceMaps,
    metafile: true,
    write: false,
    logLevel: 'silent',
  };
}

/** The options of an on-demand module's bundle. */
function onDemandBuildOptions(root: string, name: string): BuildOptions {
  return {
    absWorkingDir: root,
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: root, loader: 'js', sourcefile: `on-demand:${name}` },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    mainFields: ['module', 'main'],
    minify: true,
    metafile: true,
    write: false,
    logLevel: 'silent',
  };
}

/**
 * The options, as they enter the source hash: where the tree is does not
 * count (a CI artifact built in another checkout is as good), what it is does.
 */
function optionsFingerprint(root: string, options: BuildOptions): string {
  return JSON.stringify({ ...options, outfile: undefined }).split(JSON.stringify(root).slice(1, -1)).join('<root>');
}

/** Everything but the input files that goes into a function's source hash. */
function buildFingerprint(root: string, fn: FunctionName, settings: BundleSettings): string {
  return [
    optionsFingerprint(root, functionBuildOptions(root, fn, settings)),
    ...ON_DEMAND_MODULES.map((name) => optionsFingerprint(root, onDemandBuildOptions(root, name))),
  ].join('\n');
}

/** Thrown when esbuild cannot bundle a function: the messages say which file and line. */
export class BundleBuildError extends Error {
  constructor(fn: string, messages: readonly string[]) {
    super(`esbuild could not bundle ${fn}:\n${messages.map((m) => `  ${m}`).join('\n')}`);
    this.name = 'BundleBuildError';
  }
}

interface BuiltFiles {
  /** Output files, by path relative to the bundle folder. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The files esbuild read, relative to the root. */
  readonly inputs: readonly string[];
}

function runEsbuild(label: string, options: BuildOptions): { outputFiles: OutputFile[]; metafile: Metafile } {
  try {
    const result = buildSync(options);
    return { outputFiles: result.outputFiles ?? [], metafile: result.metafile! };
  } catch (error) {
    const failure = error as { errors?: { text: string; location?: { file: string; line: number } | null }[] };
    if (Array.isArray(failure.errors)) {
      throw new BundleBuildError(
        label,
        failure.errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text)),
      );
    }
    throw error;
  }
}

/** Bundles the on-demand modules once; every function ships the same copy. */
function buildOnDemandModules(root: string): BuiltFiles {
  const files = new Map<string, Uint8Array>();
  const inputs = new Set<string>();
  for (const name of ON_DEMAND_MODULES) {
    // Named as it is shipped: node_modules/<name>/index.js inside the function's folder.
    const outfile = path.join(root, 'node_modules', name, 'index.js');
    const { outputFiles, metafile } = runEsbuild(name, { ...onDemandBuildOptions(root, name), outfile });
    for (const file of outputFiles) files.set(path.relative(root, file.path).split(path.sep).join('/'), file.contents);
    for (const input of Object.keys(metafile.inputs)) if (!input.startsWith('on-demand:')) inputs.add(input);
  }
  return { files, inputs: [...inputs] };
}

function buildFunction(root: string, fn: FunctionName, settings: BundleSettings, onDemand: BuiltFiles): BuiltFiles {
  // The outfile names the files (and the map's `sources`, relative to it); nothing is written by esbuild.
  const options: BuildOptions = { ...functionBuildOptions(root, fn, settings), outfile: path.join(root, 'dist', fn, 'index.js') };
  const { outputFiles, metafile } = runEsbuild(fn, options);
  const outDir = path.join(root, 'dist', fn);
  const files = new Map<string, Uint8Array>();
  for (const file of outputFiles) files.set(path.relative(outDir, file.path).split(path.sep).join('/'), file.contents);
  for (const [name, contents] of onDemand.files) files.set(name, contents);
  return { files, inputs: [...Object.keys(metafile.inputs), ...onDemand.inputs] };
}

/** SHA-256 of a set of files: each path and its contents' hash, in path order. */
export function filesHash(files: ReadonlyMap<string, Uint8Array>): string {
  const lines = [...files.keys()].sort().map((name) => `${name}\0${sha256(Buffer.from(files.get(name)!))}`);
  return sha256(lines.join('\n'));
}

/** Every file under `dir`, by `/`-separated relative path. */
function readTree(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const walk = (at: string): void => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.set(path.relative(dir, full).split(path.sep).join('/'), fs.readFileSync(full));
    }
  };
  walk(dir);
  return files;
}

/** The {@link filesHash} of a folder on disk: what an archive of it holds. */
export function directoryHash(dir: string): string {
  return filesHash(readTree(dir));
}

/**
 * Files esbuild reads without listing them as inputs: `tsconfig.json` sets
 * how TypeScript is compiled (class fields, decorators).
 */
const IMPLICIT_INPUTS: readonly string[] = ['tsconfig.json'];

function inputHashes(root: string, inputs: readonly string[]): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const input of [...new Set(inputs)].sort()) {
    const file = path.join(root, input);
    hashes[input] = fs.existsSync(file) ? sha256(fs.readFileSync(file)) : 'missing';
  }
  return hashes;
}

function sourceHashOf(fingerprint: string, settings: BundleSettings, hashes: Readonly<Record<string, string>>): string {
  const inputs = Object.keys(hashes)
    .sort()
    .map((input) => `${input}\0${hashes[input]}`);
  return sha256([`esbuild ${esbuildVersion}`, JSON.stringify(settings), fingerprint, ...inputs].join('\n'));
}

const recordFile = (outDir: string, fn: FunctionName): string => path.join(outDir, `${fn}.bundle.json`);

/**
 * Puts a freshly written folder in place. Builds of one tree may run side by
 * side (parallel previews, tests): the folder is written elsewhere and renamed
 * in, and an identical folder already there is kept.
 */
function installDirectory(staged: string, target: string, codeHash: string): void {
  if (fs.existsSync(target)) {
    if (directoryHash(target) === codeHash) {
      fs.rmSync(staged, { recursive: true, force: true });
      return;
    }
    const retired = `${staged}.retired`;
    try {
      fs.renameSync(target, retired);
    } catch {
      // Another build moved it first.
    }
    fs.rmSync(retired, { recursive: true, force: true });
  }
  try {
    fs.renameSync(staged, target);
  } catch (error) {
    // Another build installed its copy in between: keep it if it is this one.
    fs.rmSync(staged, { recursive: true, force: true });
    if (!fs.existsSync(target) || directoryHash(target) !== codeHash) throw error;
  }
}

function writeAtomically(file: string, text: string): void {
  const staged = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  fs.writeFileSync(staged, text);
  fs.renameSync(staged, file);
}

/** Where to build, and how. */
export interface BuildFunctionBundlesOptions {
  /** The project root: `functions/`, `node_modules/`. */
  readonly root: string;
  /** Each function goes to `<outDir>/<fn>/`, its record to `<outDir>/<fn>.bundle.json`. */
  readonly outDir: string;
  readonly settings: BundleSettings;
  /** Defaults to every declared function. */
  readonly functions?: readonly FunctionName[];
}

/**
 * Bundles each function into `<outDir>/<fn>/` (replacing what was there) and
 * records what it was built from.
 *
 * @example
 * const bundles = buildFunctionBundles({ root, outDir: path.join(root, 'dist'), settings: { sourceMaps: false } });
 * bundles.router.codeHash; // the same for the same tree, build after build
 */
export function buildFunctionBundles(options: BuildFunctionBundlesOptions): Record<FunctionName, FunctionBundle> {
  const { root, outDir, settings } = options;
  fs.mkdirSync(outDir, { recursive: true });
  const onDemand = buildOnDemandModules(root);
  const bundles = {} as Record<FunctionName, FunctionBundle>;
  for (const fn of options.functions ?? FUNCTION_NAMES) {
    const built = buildFunction(root, fn, settings, onDemand);
    const codeHash = filesHash(built.files);
    const inputs = inputHashes(root, [...built.inputs, ...IMPLICIT_INPUTS]);
    const sourceHash = sourceHashOf(buildFingerprint(root, fn, settings), settings, inputs);
    const staged = path.join(outDir, `.${fn}.${process.pid}.${Math.random().toString(36).slice(2)}`);
    let bytes = 0;
    for (const [name, contents] of built.files) {
      const file = path.join(staged, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, contents);
      if (name === 'index.js') bytes = contents.byteLength;
    }
    const dir = path.join(outDir, fn);
    installDirectory(staged, dir, codeHash);
    const record: BundleRecord = {
      recordVersion: RECORD_VERSION,
      function: fn,
      esbuild: esbuildVersion,
      settings,
      sourceHash,
      codeHash,
      inputs,
    };
    // The fingerprint is not stored: a verifier recomputes it from its own options, so changed options are stale too.
    writeAtomically(recordFile(outDir, fn), `${JSON.stringify(record, null, 1)}\n`);
    bundles[fn] = { fn, dir, codeHash, sourceHash, bytes };
  }
  return bundles;
}

/** Thrown when prebuilt bundles are missing, modified, or were built from other sources or settings. */
export class StaleBundleError extends Error {
  constructor(
    readonly dir: string,
    readonly problems: readonly string[],
  ) {
    super(
      `The prebuilt bundles in ${dir} do not match this tree:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'Rebuild them from these sources (`npm run build` writes dist/), or unset streamer:prebuiltBundles so that the program bundles the functions itself.',
    );
    this.name = 'StaleBundleError';
  }
}

/** Files whose hash differs, named, the first few. */
function changedInputs(root: string, recorded: Readonly<Record<string, string>>): string[] {
  const now = inputHashes(root, Object.keys(recorded));
  return Object.keys(recorded).filter((input) => now[input] !== recorded[input]);
}

/**
 * Checks bundles built elsewhere (`buildFunctionBundles` into `dir`) against
 * the sources under `root` and the stack's settings, without building:
 * every input esbuild read must hash as it did, the options must be these,
 * and the bundle folder must hold exactly what the build wrote.
 *
 * @throws {@link StaleBundleError} naming each function and what differs.
 */
export function verifyPrebuiltBundles(root: string, dir: string, settings: BundleSettings): Record<FunctionName, FunctionBundle> {
  const problems: string[] = [];
  const bundles = {} as Record<FunctionName, FunctionBundle>;
  for (const fn of FUNCTION_NAMES) {
    const folder = path.join(dir, fn);
    const file = recordFile(dir, fn);
    if (!fs.existsSync(path.join(folder, 'index.js'))) {
      problems.push(`${fn}: no bundle at ${path.join(folder, 'index.js')}`);
      continue;
    }
    if (!fs.existsSync(file)) {
      problems.push(`${fn}: no build record ${file} (built by something other than infra/function-bundles.ts)`);
      continue;
    }
    let record: BundleRecord;
    try {
      record = JSON.parse(fs.readFileSync(file, 'utf8')) as BundleRecord;
    } catch {
      problems.push(`${fn}: the build record ${file} is unreadable`);
      continue;
    }
    if (record.recordVersion !== RECORD_VERSION || record.function !== fn) {
      problems.push(`${fn}: the build record ${file} is of another format or function`);
      continue;
    }
    if (record.settings.sourceMaps !== settings.sourceMaps) {
      problems.push(`${fn}: built with source maps ${record.settings.sourceMaps ? 'on' : 'off'}, the stack has streamer:sourceMaps ${settings.sourceMaps}`);
      continue;
    }
    if (record.esbuild !== esbuildVersion) {
      problems.push(`${fn}: built with esbuild ${record.esbuild}, this tree has ${esbuildVersion}`);
      continue;
    }
    const changed = changedInputs(root, record.inputs);
    if (changed.length > 0) {
      const shown = changed.slice(0, 5).join(', ');
      problems.push(`${fn}: built from other sources; changed since: ${shown}${changed.length > 5 ? ` and ${changed.length - 5} more` : ''}`);
      continue;
    }
    if (sourceHashOf(buildFingerprint(root, fn, settings), settings, record.inputs) !== record.sourceHash) {
      problems.push(`${fn}: built with other esbuild options than infra/function-bundles.ts has now`);
      continue;
    }
    const codeHash = directoryHash(folder);
    if (codeHash !== record.codeHash) {
      problems.push(`${fn}: ${folder} was modified after it was built`);
      continue;
    }
    bundles[fn] = { fn, dir: folder, codeHash, sourceHash: record.sourceHash, bytes: fs.statSync(path.join(folder, 'index.js')).size };
  }
  if (problems.length > 0) throw new StaleBundleError(dir, problems);
  return bundles;
}
