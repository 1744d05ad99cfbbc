/**
 * Watch mode's runtime half (`npm run dev`, or STREAMER_LOCAL_RELOAD=1):
 * when a function's bundle file changes on disk, its containers are
 * replaced (`LambdaContainers.replaceCode`): idle ones stop at once, busy
 * ones finish their invocation on the old code, new ones load the new
 * bundle. The gateway, its connections and the tables are untouched.
 *
 * A change is the file's content hash changing, so a rebuild that wrote
 * the same bytes replaces nothing. Writers should replace the file by
 * renaming a complete one over it (scripts/dev.mjs does): a container
 * starting mid-write would load half a bundle.
 */
import { createHash } from 'node:crypto';
import { type FSWatcher, existsSync, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { codeFileOf, type LambdaContainers, type LambdaFunctionSpec } from './lambda-containers';
import type { Logger } from './log';

/** Quiet time after the last file event before the bundle is read (a rename shows as several events). */
const SETTLE_MS = 30;

export interface CodeReloader {
  stop(): void;
}

export function reloadOnCodeChange(functions: LambdaContainers, specs: readonly LambdaFunctionSpec[], log: Logger): CodeReloader {
  const watchers: FSWatcher[] = [];
  const timers = new Set<NodeJS.Timeout>();
  for (const spec of specs) {
    const file = codeFileOf(spec);
    let loaded = hashOf(file);
    let timer: NodeJS.Timeout | undefined;
    const check = (): void => {
      timers.delete(timer!);
      const now = hashOf(file);
      if (now === undefined || now === loaded) return;
      loaded = now;
      const { stopped, finishing } = functions.replaceCode(spec.name);
      log.info(`${spec.name}: new code (${now.slice(0, 8)}); ${stopped} idle container(s) stopped, ${finishing} finishing on the old code`);
    };
    const watcher = watch(dirname(file), (_event, changed) => {
      if (changed !== null && changed !== basename(file)) return;
      if (timer !== undefined) {
        clearTimeout(timer);
        timers.delete(timer);
      }
      timer = setTimeout(check, SETTLE_MS);
      timers.add(timer);
    });
    watcher.on('error', (error) => log.warn(`${spec.name}: no longer watching ${dirname(file)}: ${error.message}`));
    watchers.push(watcher);
  }
  log.info(`watching ${specs.length} function bundle(s): a changed bundle replaces its function's containers`);
  return {
    stop: () => {
      for (const watcher of watchers) watcher.close();
      for (const timer of timers) clearTimeout(timer);
    },
  };
}

function hashOf(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
