/**
 * Where a runtime's CPU went: reads V8 CPU profiles (`npm run bench --
 * --profile <dir>` writes one per runtime) and sums self time by what the
 * code is (the AWS SDK, Streamer's functions, the local runtime, Node's HTTP
 * stack, garbage collection…). Minified bundles are mapped back to their
 * sources through their source maps, so `dist/router/index.js` splits into
 * `node_modules/@smithy/…` and `functions/core/…`.
 *
 *   node dist/bench/summarise-profile.js <file.cpuprofile>… [--top 25] [--detail]
 *
 * `--detail` also lists the heaviest functions (with their source file) of each category.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Generated line → sorted segments [generated column, source index], decoded from a source map's VLQ mappings. */
function decodeMappings(mappings: string): Array<Array<[number, number]>> {
  const lines: Array<Array<[number, number]>> = [];
  let source = 0;
  for (const line of mappings.split(';')) {
    const segments: Array<[number, number]> = [];
    let column = 0;
    for (const segment of line.split(',')) {
      if (segment === '') continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += values[0]!;
      if (values.length > 1) {
        source += values[1]!;
        segments.push([column, source]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

class SourceLookup {
  private readonly maps = new Map<string, { sources: string[]; lines: Array<Array<[number, number]>> } | undefined>();

  sourceOf(url: string, line: number, column: number): string {
    if (!url.startsWith('file://')) return url;
    const path = fileURLToPath(url);
    if (!this.maps.has(path)) {
      const mapPath = `${path}.map`;
      if (existsSync(mapPath)) {
        const map = JSON.parse(readFileSync(mapPath, 'utf8')) as { sources: string[]; mappings: string };
        this.maps.set(path, { sources: map.sources, lines: decodeMappings(map.mappings) });
      } else this.maps.set(path, undefined);
    }
    const map = this.maps.get(path);
    if (!map) return path;
    const segments = map.lines[line] ?? [];
    let found: [number, number] | undefined;
    for (const segment of segments) {
      if (segment[0] > column) break;
      found = segment;
    }
    return found ? map.sources[found[1]]! : path;
  }
}

/** What a piece of code is, from its (mapped) source path. */
export function categoryOf(source: string, functionName: string): string {
  if (!source) {
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(idle)') return '(idle)';
    if (['writev', 'writeUtf8String', 'writeLatin1String', 'writeBuffer'].includes(functionName)) return 'socket writes (syscalls)';
    return `native: ${functionName}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source)?.[1];
  if (pkg) {
    if (pkg.startsWith('@smithy/') || pkg.startsWith('@aws-sdk/') || pkg.startsWith('@aws-crypto/') || pkg === 'tslib' || pkg === 'fast-xml-parser') return 'AWS SDK v3';
    if (pkg.startsWith('@aws-lambda-powertools/') || pkg.startsWith('@aws/')) return 'Powertools';
    if (['jsonwebtoken', 'jws', 'jwa', 'ecdsa-sig-formatter', 'safe-buffer', 'semver', 'lodash.includes', 'ms'].includes(pkg)) return 'JWT (jsonwebtoken)';
    return `package ${pkg}`;
  }
  if (/(^|\/)functions\//.test(source)) return 'Streamer functions (core + handlers)';
  if (/(^|\/)local\//.test(source)) return 'local runtime (gateway, host, poller)';
  if (source.startsWith('node:_http') || source === 'node:http') return 'Node HTTP';
  if (source.startsWith('node:internal/crypto')) return 'Node crypto';
  if (source.startsWith('node:internal/async_hooks') || source === 'node:async_hooks') return 'Node async_hooks (AsyncLocalStorage)';
  if (source.startsWith('node:internal/modules') || source.startsWith('node:internal/bootstrap')) return 'module loading';
  if (source.startsWith('node:')) return 'Node core (streams, net, timers, events)';
  return source;
}

export interface Summary {
  /** Self time per category, in milliseconds. */
  readonly totals: Map<string, number>;
  /** Self time per function (`name (source)`) within each category. */
  readonly functions: Map<string, Map<string, number>>;
}

export function summarise(profile: CpuProfile, lookup = new SourceLookup()): Summary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const totals = new Map<string, number>();
  const functions = new Map<string, Map<string, number>>();
  for (const [id, ms] of selfMs) {
    const frame = byId.get(id)!.callFrame;
    const source = lookup.sourceOf(frame.url, frame.lineNumber, frame.columnNumber);
    const category = categoryOf(source, frame.functionName);
    totals.set(category, (totals.get(category) ?? 0) + ms);
    const name = `${frame.functionName || '(anonymous)'} (${source.replace(/^(\.\.\/)+/, '') || 'native'})`;
    const inCategory = functions.get(category) ?? new Map<string, number>();
    inCategory.set(name, (inCategory.get(name) ?? 0) + ms);
    functions.set(category, inCategory);
  }
  return { totals, functions };
}

function main(): void {
  const args = process.argv.slice(2);
  const topIndex = args.indexOf('--top');
  const top = topIndex >= 0 ? Number(args.splice(topIndex, 2)[1]) : 25;
  const detailIndex = args.indexOf('--detail');
  const detail = detailIndex >= 0 && args.splice(detailIndex, 1).length > 0;
  if (args.length === 0) {
    process.stderr.write('usage: node dist/bench/summarise-profile.js <file.cpuprofile>… [--top 25]\n');
    process.exit(1);
  }
  const lookup = new SourceLookup();
  for (const file of args) {
    const { totals, functions } = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, lookup);
    const all = [...totals.values()].reduce((sum, ms) => sum + ms, 0);
    const busy = all - (totals.get('(idle)') ?? 0);
    process.stdout.write(`${file}: ${(all / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy\n`);
    for (const [category, ms] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      const share = category === '(idle)' ? '' : `${((ms / busy) * 100).toFixed(1).padStart(5)} % of busy`;
      process.stdout.write(`  ${(ms / 1000).toFixed(2).padStart(8)} s  ${share.padEnd(16)}  ${category}\n`);
      if (!detail || category === '(idle)') continue;
      for (const [name, fnMs] of [...(functions.get(category) ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 6)) {
        process.stdout.write(`  ${''.padStart(8)}    ${((fnMs / busy) * 100).toFixed(1).padStart(5)} %      ${name}\n`);
      }
    }
  }
}

if (require.main === module) main();
