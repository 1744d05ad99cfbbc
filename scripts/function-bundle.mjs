/**
 * How one Lambda function is bundled: the ONE set of esbuild options that
 * `npm run build` (scripts/build.mjs, one build) and `npm run dev`
 * (scripts/dev.mjs, an incremental esbuild context rebuilt on every change)
 * both use, so watch mode serves exactly what deploys.
 */
import { build } from 'esbuild';
import { join } from 'node:path';

/** Modules a function loads on demand, shipped beside its bundle instead of inside it. */
export const ON_DEMAND_MODULES = ['@aws-lambda-powertools/tracer'];

/**
 * esbuild options for `functions/<fn>/index.ts` → `outfile`.
 *
 * @param {string} root the repository root (packages resolve from its node_modules)
 * @param {string} fn a declared function name
 * @param {{ outfile: string, functionsDir?: string, logLevel?: import('esbuild').LogLevel, write?: boolean }} options
 * @returns {import('esbuild').BuildOptions}
 */
export function functionBundleOptions(root, fn, { outfile, functionsDir = join(root, 'functions'), logLevel = 'warning', write = true }) {
  // The Lambda runtime (nodejs22.x) ships no AWS SDK we rely on: bundle ours so the
  // deployed code is exactly the tested code. Minified, and preferring packages' ES module
  // builds, which esbuild can tree-shake (the AWS SDK's shrink by a third): short cold starts.
  return {
    entryPoints: [join(functionsDir, fn, 'index.ts')],
    outfile,
    absWorkingDir: root,
    nodePaths: [join(root, 'node_modules')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    sourcemap: true,
    target: 'node22',
    minify: true,
    mainFields: ['module', 'main'],
    external: ON_DEMAND_MODULES,
    logLevel,
    write,
  };
}

/**
 * The declared function names (FUNCTION_NAMES of functions/core/function-declarations.ts).
 *
 * @param {string} root
 * @returns {Promise<string[]>}
 */
export async function declaredFunctionNames(root) {
  const { outputFiles } = await build({
    entryPoints: ['functions/core/function-declarations.ts'],
    absWorkingDir: root,
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'node',
    logLevel: 'warning',
  });
  const loaded = { exports: {} };
  new Function('module', 'exports', outputFiles[0].text)(loaded, loaded.exports);
  return loaded.exports.FUNCTION_NAMES;
}
