/**
 * The Lambda code Pulumi uploads. By default the program bundles every
 * function itself while it runs (`infra/function-bundles.ts`, the same module
 * `npm run build` uses), into `dist/stacks/<stack>/<fn>/`: what a stack ships
 * is always the tree in front of it, and an unchanged tree gives
 * byte-identical archives, so `pulumi preview` shows no code change.
 *
 * With `streamer:prebuiltBundles` (a folder a CI job built, say) the program
 * builds nothing and ships that folder, after checking every bundle against
 * the sources' hash: a stale one stops the program with a message saying
 * what changed and what to do.
 */
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';

import { FUNCTION_NAMES, type FunctionName } from '../functions/core/function-declarations';
import { buildFunctionBundles, type BundleSettings, type FunctionBundle, verifyPrebuiltBundles } from './function-bundles';

export { FUNCTION_NAMES, type FunctionName };

/** Every bundle exports `handler` from `index.js`. */
export const FUNCTION_HANDLER = 'index.handler';

/**
 * The project root (where `Pulumi.yaml`, `functions/` and `node_modules/`
 * are): `STREAMER_PROJECT_ROOT` when set (synth and tests, which run the
 * program under mocks, where Pulumi's root directory is a placeholder), else
 * Pulumi's, else `fallback` (the program's folder).
 */
export function projectRoot(fallback: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  return path.resolve(env.STREAMER_PROJECT_ROOT?.trim() || pulumi.getRootDirectory() || fallback);
}

/** Where the program builds a stack's bundles. */
export function stackBuildDirectory(root: string, stack: string): string {
  return path.join(root, 'dist', 'stacks', stack);
}

export interface FunctionCodeOptions {
  readonly root: string;
  readonly stack: string;
  readonly settings: BundleSettings;
  /** `streamer:prebuiltBundles`: ship this folder (relative to the root) instead of building. */
  readonly prebuiltBundles: string | undefined;
}

/** The functions' bundles: built now, or prebuilt and checked. */
export function functionBundles(options: FunctionCodeOptions): Record<FunctionName, FunctionBundle> {
  const { root, settings } = options;
  if (options.prebuiltBundles !== undefined) return verifyPrebuiltBundles(root, path.resolve(root, options.prebuiltBundles), settings);
  return buildFunctionBundles({ root, outDir: stackBuildDirectory(root, options.stack), settings });
}

/** One `FileArchive` per bundle folder. */
export function functionArchives(bundles: Readonly<Record<FunctionName, FunctionBundle>>): Record<FunctionName, pulumi.asset.FileArchive> {
  const archives = {} as Record<FunctionName, pulumi.asset.FileArchive>;
  for (const fn of FUNCTION_NAMES) archives[fn] = new pulumi.asset.FileArchive(portablePath(bundles[fn].dir));
  return archives;
}

/** Relative to the working directory (Pulumi runs in the project root) when inside it, so state does not carry one machine's absolute paths. */
function portablePath(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dir;
}
