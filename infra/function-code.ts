/**
 * The Lambda code Pulumi uploads: one esbuild bundle per function, written by
 * `npm run build` to `dist/<fn>/index.js` (+ `index.js.map`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';

import { FUNCTION_NAMES, type FunctionName } from '../functions/core/function-declarations';

export { FUNCTION_NAMES, type FunctionName };

/** Every bundle exports `handler` from `index.js`. */
export const FUNCTION_HANDLER = 'index.handler';

/**
 * Where the bundles are: `STREAMER_DIST_DIR` when set (a CI job that built
 * elsewhere, or tests), else `dist/` beside `index.ts`.
 */
export function distDirectory(projectRoot: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  return path.resolve(env.STREAMER_DIST_DIR?.trim() || path.join(projectRoot, 'dist'));
}

/** Thrown when a function's bundle has not been built. */
export class MissingBundleError extends Error {
  constructor(readonly missing: readonly string[]) {
    super(`Lambda bundles are missing: ${missing.join(', ')}. Run \`npm run build\` first.`);
    this.name = 'MissingBundleError';
  }
}

/**
 * One `FileArchive` per function. Fails at once (before anything is planned)
 * when a bundle is missing: `pulumi preview` would otherwise stop later with a
 * bare "couldn't read archive path", since previews hash the archives too.
 */
export function functionBundles(distDir: string): Record<FunctionName, pulumi.asset.FileArchive> {
  const missing = FUNCTION_NAMES.map((fn) => path.join(distDir, fn, 'index.js')).filter((file) => !fs.existsSync(file));
  if (missing.length > 0) throw new MissingBundleError(missing);
  const bundles = {} as Record<FunctionName, pulumi.asset.FileArchive>;
  for (const fn of FUNCTION_NAMES) bundles[fn] = new pulumi.asset.FileArchive(portablePath(path.join(distDir, fn)));
  return bundles;
}

/** Relative to the working directory (Pulumi runs in the project root) when inside it, so state does not carry one machine's absolute paths. */
function portablePath(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dir;
}
