/**
 * What changes between two manifests, by URN, as `pulumi preview --diff`
 * shows it: resources added (`+`), removed (`-`) and changed (`~`) with each
 * changed input path and its values before and after. Secret values are
 * never shown, only `[secret]`.
 *
 * @example
 * const diff = diffManifests(before, after);
 * process.stdout.write(formatDiff(diff)); // ~ aws:lambda/function:Function streamer-router
 *                                         //     memorySize: 256 → 512
 */
import type { DeploymentManifest, JsonValue, ManifestResource } from './manifest';

/** One changed value, at a path like `environment.variables.LOG_LEVEL` or `tags[0]`. */
export interface ValueChange {
  readonly path: string;
  /** `undefined` when the path is new. */
  readonly before?: JsonValue;
  /** `undefined` when the path is gone. */
  readonly after?: JsonValue;
}

/** A resource present in both manifests whose inputs differ. */
export interface ResourceChange {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly changes: readonly ValueChange[];
}

/** A resource present in one manifest only. */
export interface ResourceRef {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
}

/** Everything that differs; every list sorted (by URN, then path). Empty lists: no difference. */
export interface ManifestDiff {
  readonly added: readonly ResourceRef[];
  readonly removed: readonly ResourceRef[];
  readonly changed: readonly ResourceChange[];
  /** `streamer:*` config values. */
  readonly config: readonly ValueChange[];
  /** Stack exports. */
  readonly outputs: readonly ValueChange[];
}

/** True when two manifests describe the same deployment. */
export function isEmptyDiff(diff: ManifestDiff): boolean {
  return diff.added.length + diff.removed.length + diff.changed.length + diff.config.length + diff.outputs.length === 0;
}

const isObject = (value: JsonValue | undefined): value is { [key: string]: JsonValue } =>
  value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);

const isSecretMarker = (value: JsonValue | undefined): boolean => isObject(value) && typeof value.$secret === 'string';

/** Marker objects (`$secret`, `$archive`, …) compare as one value, not as their parts. */
const isMarker = (value: JsonValue | undefined): boolean => isObject(value) && Object.keys(value).some((key) => key.startsWith('$'));

const child = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

/** A string holding a JSON document (an IAM policy, a dashboard body), parsed; else `undefined`. */
function embeddedJson(value: JsonValue | undefined): JsonValue | undefined {
  if (typeof value !== 'string' || !/^\s*[[{]/.test(value)) return undefined;
  try {
    return JSON.parse(value) as JsonValue;
  } catch {
    return undefined;
  }
}

/**
 * Paths at which `before` and `after` differ, in key order. Policies and
 * dashboards are JSON inside a string: they are compared as documents, so a
 * changed grant shows as `policy.Statement[2].Action`, not as two walls of text.
 */
export function diffValues(before: JsonValue | undefined, after: JsonValue | undefined, path = ''): ValueChange[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const [beforeDocument, afterDocument] = [embeddedJson(before), embeddedJson(after)];
  if (beforeDocument !== undefined && afterDocument !== undefined) return diffValues(beforeDocument, afterDocument, path);
  if (isObject(before) && isObject(after) && !isMarker(before) && !isMarker(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffValues(before[key], after[key], child(path, key)));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    // Index by index, as Pulumi shows lists: a longer list shows its new items as `+ path[i]`.
    const length = Math.max(before.length, after.length);
    return Array.from({ length }, (_, i) => diffValues(before[i], after[i], `${path}[${i}]`)).flat();
  }
  return [{ path, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) }];
}

const ref = ({ urn, type, name }: ManifestResource): ResourceRef => ({ urn, type, name });

/**
 * Compares two manifests by URN. Only inputs count as a change (outputs follow
 * from them and from AWS), as in Pulumi's own diff.
 */
export function diffManifests(before: DeploymentManifest, after: DeploymentManifest): ManifestDiff {
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const now = new Map(after.resources.map((r) => [r.urn, r]));
  const byUrn = (a: ResourceRef, b: ResourceRef): number => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0);
  const changed: ResourceChange[] = [];
  for (const [urn, resource] of now) {
    const previous = old.get(urn);
    if (previous === undefined) continue;
    const changes = diffValues(previous.inputs, resource.inputs);
    if (changes.length > 0) changed.push({ ...ref(resource), changes });
  }
  return {
    added: [...now.values()].filter((r) => !old.has(r.urn)).map(ref).sort(byUrn),
    removed: [...old.values()].filter((r) => !now.has(r.urn)).map(ref).sort(byUrn),
    changed: changed.sort(byUrn),
    config: diffValues(before.config, after.config),
    outputs: diffValues(before.outputs, after.outputs),
  };
}

/** A function's code as `dist/router (sha256 4bf96098…)`: which folder, and which contents. */
function archiveOf(value: JsonValue): string | undefined {
  if (!isObject(value) || !isObject(value.$archive)) return undefined;
  const { path, sha256 } = value.$archive;
  if (typeof path !== 'string') return undefined;
  return typeof sha256 === 'string' ? `${path} (sha256 ${sha256.slice(0, 12)}…)` : path;
}

/** A value on one line: strings bare, secrets as `[secret]`, structures as compact JSON. */
export function showValue(value: JsonValue | undefined): string {
  if (value === undefined) return '(none)';
  if (isSecretMarker(value)) return '[secret]';
  const archive = archiveOf(value);
  if (archive !== undefined) return archive;
  if (typeof value === 'string') return value.length > 120 ? `${JSON.stringify(value.slice(0, 117))}…` : JSON.stringify(value);
  const json = JSON.stringify(value, (_key, v: JsonValue) => (isSecretMarker(v) ? '[secret]' : v));
  return json.length > 120 ? `${json.slice(0, 117)}…` : json;
}

function showChange(change: ValueChange, indent: string): string {
  const label = change.path === '' ? '(value)' : change.path;
  if (change.before === undefined) return `${indent}+ ${label}: ${showValue(change.after)}`;
  if (change.after === undefined) return `${indent}- ${label}: ${showValue(change.before)}`;
  return `${indent}${label}: ${showValue(change.before)} → ${showValue(change.after)}`;
}

/** The readable form, one resource a line, changed paths indented below it; `no changes` when empty. */
export function formatDiff(diff: ManifestDiff): string {
  if (isEmptyDiff(diff)) return 'no changes\n';
  const lines: string[] = [];
  for (const change of diff.config) lines.push(showChange(change, '~ config '));
  const rows: { urn: string; lines: string[] }[] = [
    ...diff.added.map((r) => ({ urn: r.urn, lines: [`+ ${r.type} ${r.name}`] })),
    ...diff.removed.map((r) => ({ urn: r.urn, lines: [`- ${r.type} ${r.name}`] })),
    ...diff.changed.map((r) => ({ urn: r.urn, lines: [`~ ${r.type} ${r.name}`, ...r.changes.map((c) => showChange(c, '    '))] })),
  ].sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  for (const row of rows) lines.push(...row.lines);
  for (const change of diff.outputs) lines.push(showChange(change, '~ output '));
  const counts = [
    diff.added.length > 0 ? `${diff.added.length} to add` : '',
    diff.changed.length > 0 ? `${diff.changed.length} to change` : '',
    diff.removed.length > 0 ? `${diff.removed.length} to remove` : '',
  ].filter((part) => part !== '');
  lines.push(`resources: ${counts.length > 0 ? counts.join(', ') : 'no changes'}`);
  return `${lines.join('\n')}\n`;
}

/** The JSON form, for CI: the diff with every secret shown as `[secret]`. */
export function diffToJson(diff: ManifestDiff): string {
  return `${JSON.stringify(diff, (_key, v: JsonValue) => (isSecretMarker(v) ? '[secret]' : v), 2)}\n`;
}
