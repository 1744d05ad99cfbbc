/**
 * The alarms and the dashboard read only metrics the functions emit, under
 * the namespace and the `{ service }` dimension set the functions give them.
 * The code side is read from the source: `Metrics.add` only takes a
 * `MetricName`, so every emitted name is a `METRICS.<key>` at a call site.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_DIMENSIONS, METRIC_NAMES, METRICS, METRICS_NAMESPACE, type MetricName } from '../../functions/core/metric-names';
import * as infraNames from '../../infra/metrics-names';
import { runWithDefaults, unwrapSecret, type ProgramRun } from '../infra/pulumi-program';

const FUNCTIONS_DIR = join(__dirname, '..', '..', 'functions');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Metric names at `….add(METRICS.<key>, …)` call sites in functions/. */
function emittedByCode(): Set<MetricName> {
  const emitted = new Set<MetricName>();
  for (const file of sourceFiles(FUNCTIONS_DIR)) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\.add\(\s*METRICS\.(\w+)\s*,/g)) {
      const name = METRICS[match[1] as keyof typeof METRICS];
      if (name === undefined) throw new Error(`${file} emits METRICS.${match[1]}, which is not defined`);
      emitted.add(name);
    }
  }
  return emitted;
}

interface CustomMetricUse {
  readonly where: string;
  readonly name: string;
  readonly dimensions: readonly string[];
}

/** Every read of the Streamer namespace by an alarm (plain or metric math) or a dashboard line. */
function customMetricsReadByInfra(run: ProgramRun): CustomMetricUse[] {
  const uses: CustomMetricUse[] = [];
  for (const alarm of run.ofType('aws:cloudwatch/metricAlarm:MetricAlarm')) {
    const { inputs } = alarm;
    if (inputs.namespace === METRICS_NAMESPACE) {
      uses.push({ where: `alarm ${alarm.name}`, name: inputs.metricName, dimensions: Object.keys(inputs.dimensions ?? {}) });
    }
    for (const query of (inputs.metricQueries ?? []) as { metric?: { namespace: string; metricName: string; dimensions?: object } }[]) {
      if (query.metric?.namespace !== METRICS_NAMESPACE) continue;
      uses.push({ where: `alarm ${alarm.name}`, name: query.metric.metricName, dimensions: Object.keys(query.metric.dimensions ?? {}) });
    }
  }
  for (const dashboard of run.ofType('aws:cloudwatch/dashboard:Dashboard')) {
    const body = JSON.parse(dashboard.inputs.dashboardBody) as { widgets: { properties: { metrics?: unknown[][] } }[] };
    for (const line of body.widgets.flatMap((w) => w.properties.metrics ?? [])) {
      if (line[0] !== METRICS_NAMESPACE) continue;
      // [namespace, name, dimName, dimValue, …, { options }]
      const pairs = line.slice(2).filter((part) => typeof part === 'string');
      uses.push({ where: `dashboard ${dashboard.name}`, name: String(line[1]), dimensions: pairs.filter((_, i) => i % 2 === 0) as string[] });
    }
  }
  return uses;
}

describe('metric names shared by the functions and the infra', () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runWithDefaults();
  });

  it('has the alarms and the dashboard read only metrics the functions emit', () => {
    const emitted = emittedByCode();
    const read = customMetricsReadByInfra(run);
    expect(read.length).toBeGreaterThan(0);
    const unknown = read.filter((use) => !emitted.has(use.name as MetricName));
    expect(unknown).toEqual([]);
  });

  it('has the alarms and the dashboard read the { service } dimension set every data point carries', () => {
    for (const use of customMetricsReadByInfra(run)) expect({ ...use, dimensions: use.dimensions }).toEqual({ ...use, dimensions: [METRIC_DIMENSIONS.service] });
  });

  it('emits every metric it defines, so no definition is dead', () => {
    expect([...emittedByCode()].sort()).toEqual([...METRIC_NAMES].sort());
  });

  it('names every emitted metric through the shared definition, never a string literal', () => {
    const literal = sourceFiles(FUNCTIONS_DIR).filter((file) => /metrics(\s*\?\?\s*\w+\))?\.add\(\s*['"`]/.test(readFileSync(file, 'utf8')));
    expect(literal).toEqual([]);
  });

  it('gives infra the very definition the functions use', () => {
    expect(infraNames.METRICS).toBe(METRICS);
    expect(infraNames.METRICS_NAMESPACE).toBe(METRICS_NAMESPACE);
    expect(infraNames.METRIC_DIMENSIONS).toBe(METRIC_DIMENSIONS);
  });

  it('tells every function the namespace the alarms read', () => {
    for (const fn of run.ofType('aws:lambda/function:Function')) {
      const { variables } = unwrapSecret(fn.inputs.environment).value as { variables: Record<string, string> };
      expect(variables.POWERTOOLS_METRICS_NAMESPACE).toBe(METRICS_NAMESPACE);
    }
  });
});
