/**
 * The scripts' door to infra/function-bundles.ts, the ONE module that knows
 * how a Lambda function is bundled: the Pulumi program builds with it while
 * it runs, `npm run build` (scripts/build.mjs) writes dist/ with it, and
 * `npm run dev` (scripts/dev.mjs) keeps an incremental esbuild context on its
 * options, so watch mode serves exactly what deploys. There is no ts-node:
 * the module is compiled here with esbuild (its packages external) and loaded.
 */
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let loading;

/** infra/function-bundles.ts, loaded once: `buildFunctionBundles`, `verifyPrebuiltBundles`, `functionBuildOptions`, `FUNCTION_NAMES`, … */
export function loadFunctionBundler() {
  loading ??= (async () => {
    const { outputFiles } = await build({
      entryPoints: ['infra/function-bundles.ts'],
      absWorkingDir: root,
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'node',
      packages: 'external',
      logLevel: 'warning',
    });
    const loaded = { exports: {} };
    const require = createRequire(join(root, 'infra', 'function-bundles.ts'));
    new Function('module', 'exports', 'require', outputFiles[0].text)(loaded, loaded.exports, require);
    return loaded.exports;
  })();
  return loading;
}

const bundler = await loadFunctionBundler();

/** Modules a function loads on demand, shipped beside its bundle instead of inside it. */
export const ON_DEMAND_MODULES = bundler.ON_DEMAND_MODULES;

/**
 * esbuild options for `functions/<fn>/index.ts` → `outfile`, as the local
 * runtime runs it (with source maps, like `npm run build`'s dist/).
 *
 * @param {string} projectRoot the repository root (packages resolve from its node_modules)
 * @param {string} fn a declared function name
 * @param {{ outfile: string, functionsDir?: string, logLevel?: import('esbuild').LogLevel, write?: boolean }} options
 * @returns {import('esbuild').BuildOptions}
 */
export function functionBundleOptions(projectRoot, fn, { outfile, functionsDir, logLevel = 'warning', write = true }) {
  return { ...bundler.functionBuildOptions(projectRoot, fn, { sourceMaps: true }, functionsDir), outfile, logLevel, write };
}

/**
 * The declared function names (FUNCTION_NAMES of functions/core/function-declarations.ts).
 *
 * @returns {Promise<string[]>}
 */
export async function declaredFunctionNames() {
  return bundler.FUNCTION_NAMES;
}
