/**
 * Section 7: what one Lambda container of the local runtime costs: the cold
 * start of a router container (worker thread start, bootstrap and the
 * bundle's init, as the host sees it; and the init alone, inside the
 * container), median of several fresh containers, and the memory (RSS
 * growth of this process) of ten idle, initialised router containers.
 */
import { join } from 'node:path';
import { type LambdaFunctionSpec, LambdaContainers } from '../../local/lambda-containers';
import type { BenchContext } from '../lib/context';
import { count, type Figure, type SectionResult } from '../lib/report';
import { REPO_ROOT } from '../lib/runtime';
import { median } from '../lib/stats';

const IDLE_CONTAINERS = 10;
/** A `$default` event with nothing configured behind it: the router fails it (misconfigured), after its cold start. */
const ROUTER_EVENT = { requestContext: { connectionId: 'bench' }, body: '{}', isBase64Encoded: false };

function routerSpec(): LambdaFunctionSpec {
  return {
    name: 'bench-router',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:bench-router',
    codeDir: join(REPO_ROOT, 'dist', 'router'),
    handler: 'index.handler',
    environment: { AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'CRITICAL' },
    memoryMb: 256,
    timeoutSeconds: 30,
    asyncRetry: { maximumRetryAttempts: 0, delaysMs: [] },
  };
}

function host(): LambdaContainers {
  const lambda = new LambdaContainers({
    functions: [routerSpec()],
    localConcurrencyCap: IDLE_CONTAINERS,
    containerScript: join(REPO_ROOT, 'dist', 'local', 'lambda-container.js'),
    onOutput: () => undefined,
  });
  lambda.start();
  return lambda;
}

async function settledRss(): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, 500));
  return process.memoryUsage().rss;
}

export async function measureContainers(context: BenchContext): Promise<SectionResult> {
  const runs = context.quick ? 5 : 15;
  const readyMs: number[] = [];
  const initMs: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const lambda = host();
    await lambda.invoke('bench-router', ROUTER_EVENT);
    const stats = lambda.stats('bench-router')!;
    readyMs.push(...stats.readyMs);
    initMs.push(...stats.initMs);
    await lambda.stop(0);
  }

  const before = await settledRss();
  const lambda = host();
  // Ten invocations at once find no idle container: each starts its own.
  await Promise.all(Array.from({ length: IDLE_CONTAINERS }, () => lambda.invoke('bench-router', ROUTER_EVENT)));
  const containers = lambda.stats('bench-router')!.containers;
  const after = await settledRss();
  await lambda.stop(0);
  const perContainerMiB = (after - before) / 1048576 / containers;

  const cold = { readyMs: Math.round(median(readyMs) * 10) / 10, initMs: Math.round(median(initMs) * 10) / 10 };
  context.log(`  router container cold start ${cold.readyMs} ms (init ${cold.initMs} ms), median of ${runs}`);
  context.log(`  ${containers} idle router containers: +${count((after - before) / 1048576, 1)} MiB RSS, ${count(perContainerMiB, 1)} MiB each`);
  const figures: Figure[] = [
    {
      section: '7 Containers',
      name: `router container cold start: ready (init) (median of ${runs})`,
      value: `${cold.readyMs} ms (${cold.initMs} ms)`,
      data: { ...cold, samplesReadyMs: readyMs.map((v) => Math.round(v)) },
    },
    {
      section: '7 Containers',
      name: `memory of ${containers} idle router containers (RSS growth)`,
      value: `${count((after - before) / 1048576, 1)} MiB, ${count(perContainerMiB, 1)} MiB each`,
      data: { containers, rssBeforeBytes: before, rssAfterBytes: after },
    },
  ];
  return { figures, details: { runs, cold, containers, perContainerMiB } };
}
