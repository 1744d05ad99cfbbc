/** The benchmark's output: one table on stdout and a JSON document under bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineFacts } from './machine';
import type { LatencySummary } from './stats';

export interface Figure {
  readonly section: string;
  readonly name: string;
  /** What was measured, formatted for the table. */
  readonly value: string;
  /** Latency as a multiple of the bare-`ws` floor (p50 / p99). */
  readonly xFloor?: string;
  readonly target?: string;
  /** Whether the target was met; absent when the figure has no target or was not measured. */
  readonly met?: boolean;
  readonly note?: string;
  /** The raw numbers behind `value`. */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface SectionResult {
  readonly figures: Figure[];
  /** Everything else the section measured, kept in the JSON file. */
  readonly details: Record<string, unknown>;
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (value >= 100) return `${Math.round(value)}`;
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function latencyValue(summary: LatencySummary, withP999 = false): string {
  const parts = [ms(summary.p50), ms(summary.p99), ...(withP999 ? [ms(summary.p999)] : [])];
  return `${parts.join(' / ')} ms`;
}

export function times(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—';
  return ratio >= 10 ? `${Math.round(ratio)}×` : `${ratio.toFixed(1)}×`;
}

export function xFloor(summary: LatencySummary, floor: LatencySummary | undefined): string | undefined {
  if (!floor) return undefined;
  return `${times(summary.p50 / floor.p50)} / ${times(summary.p99 / floor.p99)}`;
}

export function count(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function renderTable(figures: readonly Figure[]): string {
  const header = ['Section', 'Figure', 'Measured', '× floor (p50 / p99)', 'Target', 'Met'];
  const rows = figures.map((figure) => [
    figure.section,
    figure.name,
    figure.value,
    figure.xFloor ?? '',
    figure.target ?? '',
    figure.met === undefined ? (figure.target ? 'n/a' : '') : figure.met ? 'met' : 'MISSED',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  const out = [line(header), widths.map((width) => '-'.repeat(width)).join('  ')];
  let section = '';
  for (const row of rows) {
    out.push(line(row[0] === section ? ['', ...row.slice(1)] : row));
    section = row[0]!;
  }
  const notes = figures.filter((figure) => figure.note).map((figure) => `  ${figure.section} / ${figure.name}: ${figure.note}`);
  return [...out, ...(notes.length > 0 ? ['', 'Notes:', ...notes] : [])].join('\n');
}

export interface ResultDocument {
  readonly date: string;
  readonly mode: 'full' | 'quick';
  /** A full run of every section with the standard settings: the only kind that replaces latest.json. */
  readonly standard: boolean;
  readonly durationSeconds: number;
  readonly machine: MachineFacts;
  readonly runtimeEnvironment: Readonly<Record<string, string>>;
  /** Stack config the deployment was rendered with (the bench's, plus `--stack`). */
  readonly stackConfig?: Readonly<Record<string, string>>;
  readonly figures: ReadonlyArray<Figure & { readonly cores: number; readonly date: string }>;
  readonly sections: Record<string, unknown>;
}

/**
 * Writes `<date>.json`, and for a standard full run also `latest.json` (the
 * committed figures; a quick, partial, profiled or `--env` run never replaces
 * them). Returns the paths written.
 */
export function writeResults(dir: string, document: ResultDocument): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = document.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const text = `${JSON.stringify(document, null, 2)}\n`;
  const paths = [join(dir, `${stamp}${document.mode === 'quick' ? '-quick' : ''}.json`)];
  if (document.mode === 'full' && document.standard) paths.push(join(dir, 'latest.json'));
  for (const path of paths) writeFileSync(path, text);
  return paths;
}
