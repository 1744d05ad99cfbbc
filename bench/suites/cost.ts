/**
 * Section 5: what one async request costs on AWS. The real core lifecycle
 * runs in this process against DynamoDB Local (bench/cost/), counting every
 * DynamoDB call and the capacity DynamoDB reports, every PostToConnection,
 * every Lambda invocation and its duration, and the stream records the
 * request's writes produce. Those counts, at the list prices in
 * bench/cost/prices.ts and the stack's default memory and architecture
 * (Pulumi.yaml), give a cost per million requests.
 *
 * Batching off cannot be measured: the worker builds its ProgressBatcher
 * itself (run-claimed-request.ts) with no seam to change its options. It is
 * computed instead: one PostToConnection per report per audience member.
 *
 * Each job runs with direct dispatch as the stack sets it (`streamer:directDispatch`,
 * `--stack directDispatch=…`) and again the other way, and one figure per job puts
 * the two side by side: with it on, the router's invoke replaces the stream's
 * dispatch (same invocation count), the claim's returned item saves the worker's
 * consistent read, and the stream's claim of a taken request is one failed
 * conditional write.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import type { BenchContext } from '../lib/context';
import { count, type Figure, type SectionResult } from '../lib/report';
import { REPO_ROOT } from '../lib/runtime';
import { type CountedRun, startCostHarness } from '../cost/cost-harness';
import { API_GATEWAY_MESSAGE_INCREMENT_BYTES, PRICES } from '../cost/prices';

const REPORTS = 100;

interface StackDefaults {
  readonly memoryMb: Readonly<Record<'router' | 'processor' | 'connect' | 'disconnect', number>>;
  readonly architecture: string;
  /** `streamer:directDispatch`: the mode the section's main figures are for (the other is shown beside it). */
  readonly directDispatch: boolean;
}

/** The deployed defaults, read from Pulumi.yaml's typed config block. */
export function stackDefaults(): StackDefaults {
  const project = load(readFileSync(join(REPO_ROOT, 'Pulumi.yaml'), 'utf8')) as { config?: Record<string, { default?: unknown }> };
  const value = (key: string, fallback: number | string): number | string => (project.config?.[key]?.default as number | string | undefined) ?? fallback;
  return {
    memoryMb: {
      router: Number(value('routerMemoryMb', 256)),
      processor: Number(value('processorMemoryMb', 512)),
      connect: Number(value('connectMemoryMb', 256)),
      disconnect: Number(value('disconnectMemoryMb', 256)),
    },
    architecture: String(value('architecture', 'arm64')),
    directDispatch: String(project.config?.directDispatch?.default ?? false) === 'true',
  };
}

interface Breakdown {
  readonly postToConnection: number;
  readonly postsByType: Record<string, number>;
  /** Replies sent as the `$default` route response (the ack): messages, not PostToConnection calls. */
  readonly routeResponses: number;
  readonly dynamoWrites: number;
  readonly dynamoReads: number;
  readonly writesByTable: Record<string, Record<string, number>>;
  readonly readsByTable: Record<string, Record<string, number>>;
  readonly writeUnits: number;
  readonly readUnits: number;
  /** Conditional writes DynamoDB refused (billed as one write each): a claim that came second. */
  readonly failedConditionalWrites: number;
  readonly streamRecords: number;
  readonly streamRecordsPassingFilter: number;
  readonly lambdaInvocations: Record<string, number>;
  readonly lambdaMs: Record<string, number>;
  readonly handlerMs: number;
  readonly apiGatewayMessages: number;
}

function breakdown(runs: readonly CountedRun[], inbound: number): Breakdown {
  const n = runs.length;
  const avg = (value: number): number => Math.round((value / n) * 100) / 100;
  const tally = (kind: 'read' | 'write'): Record<string, Record<string, number>> => {
    const out: Record<string, Record<string, number>> = {};
    for (const run of runs) for (const call of run.dynamo) if (call.kind === kind) (out[call.table] ??= {})[call.api] = ((out[call.table] ??= {})[call.api] ?? 0) + 1 / n;
    for (const table of Object.values(out)) for (const api of Object.keys(table)) table[api] = Math.round(table[api]! * 100) / 100;
    return out;
  };
  const postsByType: Record<string, number> = {};
  for (const run of runs) for (const post of run.posted) postsByType[post.type] = (postsByType[post.type] ?? 0) + 1 / n;
  for (const type of Object.keys(postsByType)) postsByType[type] = Math.round(postsByType[type]! * 100) / 100;
  const lambdaInvocations: Record<string, number> = {};
  const lambdaMs: Record<string, number> = {};
  for (const run of runs) {
    for (const invocation of run.lambda) {
      lambdaInvocations[invocation.fn] = (lambdaInvocations[invocation.fn] ?? 0) + 1 / n;
      // Lambda bills each invocation's duration rounded up to the millisecond.
      lambdaMs[invocation.fn] = (lambdaMs[invocation.fn] ?? 0) + Math.ceil(invocation.ms) / n;
    }
  }
  const sum = (pick: (run: CountedRun) => number): number => avg(runs.reduce((total, run) => total + pick(run), 0));
  // API Gateway bills every message it sends: PostToConnection data and route responses alike.
  const messageUnits = (run: CountedRun): number =>
    [...run.posted, ...run.routeResponses].reduce((total, post) => total + Math.max(1, Math.ceil(post.bytes / API_GATEWAY_MESSAGE_INCREMENT_BYTES)), 0);
  return {
    postToConnection: sum((run) => run.posted.length),
    postsByType,
    routeResponses: sum((run) => run.routeResponses.length),
    dynamoWrites: sum((run) => run.dynamo.filter((call) => call.kind === 'write').length),
    dynamoReads: sum((run) => run.dynamo.filter((call) => call.kind === 'read').length),
    writesByTable: tally('write'),
    readsByTable: tally('read'),
    writeUnits: sum((run) => run.dynamo.filter((call) => call.kind === 'write').reduce((total, call) => total + call.units, 0)),
    readUnits: sum((run) => run.dynamo.filter((call) => call.kind === 'read').reduce((total, call) => total + call.units, 0)),
    failedConditionalWrites: sum((run) => run.dynamo.filter((call) => call.outcome === 'ConditionalCheckFailedException').length),
    streamRecords: sum((run) => run.streamRecords),
    streamRecordsPassingFilter: sum((run) => run.streamRecordsPassingFilter),
    lambdaInvocations,
    lambdaMs: Object.fromEntries(Object.entries(lambdaMs).map(([fn, value]) => [fn, Math.round(value * 10) / 10])),
    handlerMs: sum((run) => run.handlerMs),
    apiGatewayMessages: avg(runs.reduce((total, run) => total + messageUnits(run), 0)) + inbound,
  };
}

interface Dollars {
  readonly dynamodb: number;
  readonly lambdaRequests: number;
  readonly lambdaDuration: number;
  readonly apiGateway: number;
  readonly total: number;
  /** The same, leaving out the handler's own run time (what Streamer itself costs). */
  readonly totalWithoutHandlerTime: number;
}

const MEMORY_OF: Record<string, keyof StackDefaults['memoryMb']> = {
  router: 'router',
  'processor (stream)': 'processor',
  'processor (worker)': 'processor',
  'processor (direct)': 'processor',
  connect: 'connect',
  disconnect: 'disconnect',
};

/** Dollars per million of these requests. */
function perMillion(b: Breakdown, stack: StackDefaults): Dollars {
  const gbSecondPrice = PRICES.lambdaGbSecond[stack.architecture] ?? PRICES.lambdaGbSecond.arm64!;
  const gbSeconds = (excludeHandler: boolean): number =>
    Object.entries(b.lambdaMs).reduce((total, [fn, msTotal]) => {
      const memoryGb = stack.memoryMb[MEMORY_OF[fn] ?? 'processor'] / 1024;
      const runsHandler = fn === 'processor (worker)' || fn === 'processor (direct)';
      const billedMs = excludeHandler && runsHandler ? Math.max(0, msTotal - b.handlerMs) : msTotal;
      return total + memoryGb * (billedMs / 1000);
    }, 0);
  const dynamodb = b.writeUnits * PRICES.dynamodbWriteRequestUnit + b.readUnits * PRICES.dynamodbReadRequestUnit;
  const invocations = Object.values(b.lambdaInvocations).reduce((total, value) => total + value, 0);
  const lambdaRequests = invocations * PRICES.lambdaRequest;
  const lambdaDuration = gbSeconds(false) * gbSecondPrice;
  const apiGateway = b.apiGatewayMessages * PRICES.apiGatewayMessage;
  const million = (value: number): number => Math.round(value * 1e6 * 100) / 100;
  return {
    dynamodb: million(dynamodb),
    lambdaRequests: million(lambdaRequests),
    lambdaDuration: million(lambdaDuration),
    apiGateway: million(apiGateway),
    total: million(dynamodb + lambdaRequests + lambdaDuration + apiGateway),
    totalWithoutHandlerTime: million(dynamodb + lambdaRequests + gbSeconds(true) * gbSecondPrice + apiGateway),
  };
}

/** Batching off, computed: every report is its own PostToConnection to each audience member. */
function withoutBatching(b: Breakdown, audience: number): Breakdown {
  const progress = REPORTS * audience;
  const others = b.postToConnection - (b.postsByType.progress ?? 0);
  return {
    ...b,
    postToConnection: others + progress,
    postsByType: { ...b.postsByType, progress },
    apiGatewayMessages: b.apiGatewayMessages - (b.postsByType.progress ?? 0) + progress,
  };
}

const tableSummary = (byTable: Record<string, Record<string, number>>): string =>
  Object.entries(byTable)
    .map(([table, apis]) => `${table} ${Object.entries(apis).map(([api, n]) => `${n} ${api}`).join(' + ')}`)
    .join('; ');

/** One mode's counts beside the other's: what direct dispatch adds and saves per job. */
function directDispatchFigure(job: string, on: Breakdown, off: Breakdown, dollarsOn: Dollars, dollarsOff: Dollars): Figure {
  const invocations = (b: Breakdown): number => Math.round(Object.values(b.lambdaInvocations).reduce((total, n) => total + n, 0) * 100) / 100;
  const failedClaims = (b: Breakdown): number => b.failedConditionalWrites;
  return {
    section: '5 Cost',
    name: `${job}: direct dispatch on / off (Lambda invocations; DynamoDB writes, reads; $ per million)`,
    value:
      `${invocations(on)} / ${invocations(off)} invocations; ${on.dynamoWrites} / ${off.dynamoWrites} writes (${on.writeUnits} / ${off.writeUnits} WRU), ` +
      `${on.dynamoReads} / ${off.dynamoReads} reads (${on.readUnits} / ${off.readUnits} RRU); $${count(dollarsOn.total, 2)} / $${count(dollarsOff.total, 2)}`,
    note:
      `on: ${JSON.stringify(on.lambdaInvocations)}, failed conditional writes ${failedClaims(on)} (the stream's claim of a request the direct path took), ` +
      `Lambda ms ${JSON.stringify(on.lambdaMs)}; off: ${JSON.stringify(off.lambdaInvocations)}, failed conditional writes ${failedClaims(off)}, Lambda ms ${JSON.stringify(off.lambdaMs)}`,
    data: { on, off, dollarsOn, dollarsOff },
  };
}

export async function measureCost(context: BenchContext): Promise<SectionResult> {
  const defaults = stackDefaults();
  const stack: StackDefaults = {
    ...defaults,
    directDispatch: context.extraStack?.directDispatch !== undefined ? context.extraStack.directDispatch === 'true' : defaults.directDispatch,
  };
  const scenarios = context.quick
    ? [
        { name: 'burst', gapMs: 0, runs: 2 },
        { name: '100 reports/s', gapMs: 10, runs: 1 },
      ]
    : [
        { name: 'burst', gapMs: 0, runs: 3 },
        { name: '100 reports/s', gapMs: 10, runs: 3 },
        { name: '10 reports/s', gapMs: 100, runs: 1 },
      ];
  const harness = await startCostHarness();
  const measured: Array<{
    name: string;
    gapMs: number;
    on: Breakdown;
    off: Breakdown;
    dollarsOn: Dollars;
    dollarsOff: Dollars;
    /** The same job in the other direct-dispatch mode (`other.directDispatch`). */
    other: { directDispatch: boolean; breakdown: Breakdown; dollars: Dollars };
  }> = [];
  let connection: { breakdown: Breakdown; dollars: Dollars };
  try {
    await harness.runJob(5, 0); // warm the clients and the tables
    for (const scenario of scenarios) {
      const runs: CountedRun[] = [];
      const otherRuns: CountedRun[] = [];
      for (let i = 0; i < scenario.runs; i++) {
        runs.push(await harness.runJob(REPORTS, scenario.gapMs, { directDispatch: stack.directDispatch }));
        otherRuns.push(await harness.runJob(REPORTS, scenario.gapMs, { directDispatch: !stack.directDispatch }));
      }
      const on = breakdown(runs, 1);
      const off = withoutBatching(on, 1);
      const otherBreakdown = breakdown(otherRuns, 1);
      measured.push({
        name: scenario.name,
        gapMs: scenario.gapMs,
        on,
        off,
        dollarsOn: perMillion(on, stack),
        dollarsOff: perMillion(off, stack),
        other: { directDispatch: !stack.directDispatch, breakdown: otherBreakdown, dollars: perMillion(otherBreakdown, stack) },
      });
      context.log(`  ${scenario.name}: ${on.postToConnection} PostToConnection (${JSON.stringify(on.postsByType)}), ${on.dynamoWrites} writes / ${on.dynamoReads} reads, $${perMillion(on, stack).total} per million`);
    }
    const connects: CountedRun[] = [];
    for (let i = 0; i < 3; i++) connects.push(await harness.connectAndDisconnect());
    const connectionBreakdown = breakdown(connects, 0);
    connection = { breakdown: connectionBreakdown, dollars: perMillion(connectionBreakdown, stack) };
  } finally {
    await harness.stop();
  }

  const chatty = measured.find((m) => m.gapMs === 10) ?? measured[0]!;
  const figures: Figure[] = [];
  for (const m of measured) {
    const job = `${REPORTS}-report job, ${m.name}${m.gapMs > 0 ? ` (${m.gapMs} ms apart)` : ''}`;
    const judged = m === chatty;
    figures.push({
      section: '5 Cost',
      name: `${job}: PostToConnection, batching on / off`,
      value: `${m.on.postToConnection} / ${m.off.postToConnection} (progress ${m.on.postsByType.progress ?? 0} / ${m.off.postsByType.progress}; + ${m.on.routeResponses} route response)`,
      target: judged ? '≤ 25 with batching' : undefined,
      met: judged ? m.on.postToConnection <= 25 : undefined,
      note: judged ? 'batching off is computed (one post per report per audience member): the worker builds its ProgressBatcher with no seam to turn it off' : undefined,
      data: { gapMs: m.gapMs, batchingOn: m.on.postsByType, batchingOff: m.off.postsByType },
    });
    figures.push({
      section: '5 Cost',
      name: `${job}: DynamoDB writes / reads`,
      value: `${m.on.dynamoWrites} / ${m.on.dynamoReads} calls (${m.on.writeUnits} WRU, ${m.on.readUnits} RRU)`,
      target: judged ? '≤ 4 writes' : undefined,
      met: judged ? m.on.dynamoWrites <= 4 : undefined,
      note: `writes: ${tableSummary(m.on.writesByTable)}; reads: ${tableSummary(m.on.readsByTable)}; stream records ${m.on.streamRecords} (${m.on.streamRecordsPassingFilter} pass the queued filter)`,
      data: { gapMs: m.gapMs, ...m.on },
    });
    figures.push({
      section: '5 Cost',
      name: `${job}: AWS $ per million requests, batching on / off`,
      value: `$${count(m.dollarsOn.total, 2)} / $${count(m.dollarsOff.total, 2)}`,
      note:
        `on: DynamoDB $${m.dollarsOn.dynamodb}, Lambda requests $${m.dollarsOn.lambdaRequests}, Lambda duration $${m.dollarsOn.lambdaDuration} ` +
        `(handler ${m.on.handlerMs} ms of the worker's ${m.on.lambdaMs['processor (worker)'] ?? m.on.lambdaMs['processor (direct)']} ms), API Gateway messages $${m.dollarsOn.apiGateway}; ` +
        `without the handler's own time $${m.dollarsOn.totalWithoutHandlerTime}`,
      data: { gapMs: m.gapMs, batchingOn: m.dollarsOn, batchingOff: m.dollarsOff },
    });
    const [direct, stream] = stack.directDispatch ? [m.on, m.other.breakdown] : [m.other.breakdown, m.on];
    const [directDollars, streamDollars] = stack.directDispatch ? [m.dollarsOn, m.other.dollars] : [m.other.dollars, m.dollarsOn];
    figures.push(directDispatchFigure(job, direct, stream, directDollars, streamDollars));
  }
  figures.push({
    section: '5 Cost',
    name: 'per connection ($connect + $disconnect)',
    value: `${connection.breakdown.dynamoWrites} writes / ${connection.breakdown.dynamoReads} reads, $${count(connection.dollars.total, 2)} per million`,
    note: `plus $${PRICES.apiGatewayConnectionMinute * 1e6} per million connection minutes; prices: ${PRICES.region}, list prices as of ${PRICES.asOf}, ${stack.architecture}, router ${stack.memoryMb.router} MB, processor ${stack.memoryMb.processor} MB`,
    data: { ...connection },
  });
  return { figures, details: { stack, prices: PRICES, scenarios: measured, connection } };
}
