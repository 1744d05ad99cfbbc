/**
 * Streamer on AWS: the whole deployment on one page.
 *
 * A WebSocket API whose `$connect`/`$disconnect`/`$default` routes reach three
 * Lambda functions, `$connect` behind a fourth, the token authorizer; DynamoDB tables shaped by `functions/core/cloud-shapes.ts`;
 * a private results bucket for results too large for a message; the
 * requests table's stream feeding the processor (which also re-queues
 * expired leases on a schedule); alarms and a dashboard.
 *
 * Configuration: `streamer:*` keys (see `infra/config.ts`, `docs/deploy.md`).
 * Code: each function bundled with esbuild while the program runs
 * (`infra/function-code.ts`), or the checked bundles of `streamer:prebuiltBundles`.
 */
import * as pulumi from '@pulumi/pulumi';
import { readStackConfig } from './infra/config';
import { functionArchives, functionBundles, projectRoot } from './infra/function-code';
import { StreamerFunctions } from './infra/functions';
import { LeaseSweeperSchedule } from './infra/lease-sweeper';
import { Monitoring } from './infra/monitoring';
import { deploymentName } from './infra/naming';
import { StreamDeadLetters, StreamWiring } from './infra/stream-wiring';
import { ResultsBucket } from './infra/results-bucket';
import { StreamerTables } from './infra/tables';
import { TokenKey } from './infra/token-key';
import { WebSocketApi, WebSocketRoutes } from './infra/websocket-api';

const config = readStackConfig();
const bundles = functionArchives(
  functionBundles({
    root: projectRoot(__dirname),
    stack: pulumi.getStack(),
    settings: { sourceMaps: config.sourceMaps },
    prebuiltBundles: config.prebuiltBundles,
  }),
);
const name = deploymentName(pulumi.getProject(), pulumi.getStack());

const tables = new StreamerTables('streamer', { pointInTimeRecovery: config.pointInTimeRecovery });
const api = new WebSocketApi('streamer', { apiName: name, stageName: config.stageName });
const deadLetters = new StreamDeadLetters('streamer');
const resultsBucket = new ResultsBucket('streamer', { resultExpiryDays: config.requestTtlDays });
const tokenKey = new TokenKey('streamer', { deploymentName: name, auth: config.auth });
const functions = new StreamerFunctions('streamer', {
  deploymentName: name,
  bundles,
  config,
  tables,
  api,
  resultsBucket,
  deadLetterQueueArn: deadLetters.queue.arn,
  tokenKey: tokenKey.reference,
});
new WebSocketRoutes('streamer', {
  api,
  targets: { connect: functions.functions.connect, disconnect: functions.functions.disconnect, default: functions.functions.router },
  authorizer: functions.functions.authorizer,
  throttling: config.throttling,
  logRetentionDays: config.logRetentionDays,
  manageApiGatewayAccount: config.manageApiGatewayAccount,
});
const stream = new StreamWiring('streamer', {
  requestsTable: tables.byName.requests.table,
  processor: functions.functions.processor,
  deadLetterQueue: deadLetters.queue,
});
new LeaseSweeperSchedule('streamer', { processor: functions.functions.processor });
const monitoring = new Monitoring('streamer', {
  deploymentName: name,
  functionNames: functions.names,
  tables,
  api,
  deadLetterQueue: stream.deadLetterQueue,
  alarmEmail: config.alarmEmail,
  thresholds: config.alarms,
});

/** What clients connect to: `wss://{api-id}.execute-api.{region}.amazonaws.com/{stage}`. */
export const websocketUrl = api.url;
export const managementEndpoint = api.managementEndpoint;
export const connectionsTable = tables.byName.connections.table.name;
export const requestsTable = tables.byName.requests.table.name;
export const subscriptionsTable = tables.byName.subscriptions.table.name;
export const rateLimitsTable = tables.byName['rate-limits'].table.name;
/** Large results and uploads (private; reached through presigned URLs). */
export const resultsBucketName = resultsBucket.bucket.id;
export const idempotencyKeysTable = tables.byName['idempotency-keys'].table.name;
export const progressLogTable = tables.byName['progress-log'].table.name;
export const functionNames = functions.names;
export const dashboardUrl = monitoring.dashboardUrl;
/** Stream batches that failed after every retry wait here. */
export const dlqUrl = stream.deadLetterQueue.url;
