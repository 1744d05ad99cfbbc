/**
 * Alarms and one dashboard. Alarms notify an SNS topic (with the configured
 * email subscribed) when `alarmEmail` is set; otherwise they only show state
 * in the console and on the dashboard.
 *
 * Custom metrics come from the functions through Powertools (namespace and
 * names defined once in `functions/core/metric-names.ts`, re-exported by
 * `metrics-names.ts`; dimension `service` = the deployment name).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { FUNCTION_NAMES, type FunctionName } from './function-code';
import { METRIC_DIMENSIONS, METRICS, METRICS_NAMESPACE } from './metrics-names';
import type { StreamerTables, TableName } from './tables';
import type { WebSocketApi } from './websocket-api';

/** Alarm evaluation window (seconds). */
const PERIOD_SECONDS = 300;

/** Data-plane operations the functions call; DynamoDB reports throttles per table and operation. */
const DYNAMODB_OPERATIONS = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'BatchWriteItem'] as const;

export interface MonitoringArgs {
  /** The `service` dimension of custom metrics and the dashboard's name. */
  readonly deploymentName: string;
  readonly functionNames: Readonly<Record<FunctionName, pulumi.Input<string>>>;
  readonly tables: StreamerTables;
  readonly api: WebSocketApi;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly alarmEmail: string | undefined;
  readonly thresholds: { readonly errorRatePercent: number; readonly processingTimeMs: number };
}

export class Monitoring extends pulumi.ComponentResource {
  readonly alarms: readonly aws.cloudwatch.MetricAlarm[];
  readonly alarmTopic: aws.sns.Topic | undefined;
  readonly dashboard: aws.cloudwatch.Dashboard;
  readonly dashboardUrl: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('streamer:infra:Monitoring', name, {}, opts);
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const apiDimensions = { ApiId: args.api.api.id, Stage: args.api.stageName };

    if (args.alarmEmail !== undefined) {
      this.alarmTopic = new aws.sns.Topic(`${name}-alarms`, {}, { parent: this });
      new aws.sns.TopicSubscription(
        `${name}-alarms-email`,
        { topic: this.alarmTopic.arn, protocol: 'email', endpoint: args.alarmEmail },
        { parent: this },
      );
    }
    const actions = this.alarmTopic ? [this.alarmTopic.arn] : [];
    const alarm = (alarmName: string, alarmArgs: aws.cloudwatch.MetricAlarmArgs) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${alarmName}`,
        {
          comparisonOperator: 'GreaterThanThreshold',
          evaluationPeriods: 1,
          treatMissingData: 'notBreaching',
          alarmActions: actions,
          okActions: actions,
          ...alarmArgs,
        },
        { parent: this },
      );

    const alarms: aws.cloudwatch.MetricAlarm[] = [];
    for (const fn of FUNCTION_NAMES) {
      const lambdaMetric = (metricName: string) => ({
        namespace: 'AWS/Lambda',
        metricName,
        dimensions: { FunctionName: args.functionNames[fn] },
        period: PERIOD_SECONDS,
        stat: 'Sum',
      });
      alarms.push(
        alarm(`${fn}-error-rate`, {
          alarmDescription: `Streamer ${fn}: more than ${args.thresholds.errorRatePercent}% of invocations failed`,
          threshold: args.thresholds.errorRatePercent,
          metricQueries: [
            { id: 'errors', metric: lambdaMetric('Errors'), returnData: false },
            { id: 'invocations', metric: lambdaMetric('Invocations'), returnData: false },
            { id: 'errorRate', expression: 'IF(invocations > 0, 100 * errors / invocations, 0)', label: 'Error rate (%)', returnData: true },
          ],
        }),
      );
    }

    alarms.push(
      alarm('processing-time-p99', {
        alarmDescription: `Streamer: p99 handler duration above ${args.thresholds.processingTimeMs} ms`,
        namespace: METRICS_NAMESPACE,
        metricName: METRICS.handlerDuration,
        dimensions: { [METRIC_DIMENSIONS.service]: args.deploymentName },
        extendedStatistic: 'p99',
        period: PERIOD_SECONDS,
        threshold: args.thresholds.processingTimeMs,
      }),
    );

    for (const [logical, { table }] of Object.entries(args.tables.byName) as [TableName, { table: aws.dynamodb.Table }][]) {
      const operations = DYNAMODB_OPERATIONS.map((operation, i) => ({
        id: `op${i}`,
        returnData: false,
        metric: {
          namespace: 'AWS/DynamoDB',
          metricName: 'ThrottledRequests',
          dimensions: { TableName: table.name, Operation: operation },
          period: PERIOD_SECONDS,
          stat: 'Sum',
        },
      }));
      alarms.push(
        alarm(`${logical}-throttled`, {
          alarmDescription: `Streamer: DynamoDB throttled requests on the ${logical} table`,
          threshold: 0,
          metricQueries: [
            ...operations,
            { id: 'throttled', expression: `SUM([${operations.map((o) => o.id).join(', ')}])`, label: 'Throttled requests', returnData: true },
          ],
        }),
      );
    }

    const apiMetric = (metricName: string) => ({
      namespace: 'AWS/ApiGateway',
      metricName,
      dimensions: apiDimensions,
      period: PERIOD_SECONDS,
      stat: 'Sum',
    });
    alarms.push(
      alarm('api-execution-errors', {
        alarmDescription: 'Streamer: API Gateway failed to run the WebSocket integration',
        namespace: 'AWS/ApiGateway',
        metricName: 'ExecutionError',
        dimensions: apiDimensions,
        statistic: 'Sum',
        period: PERIOD_SECONDS,
        threshold: 0,
      }),
    );
    // Refused handshakes (401) count as integration errors, so alarm on a rate, not on any error.
    alarms.push(
      alarm('api-integration-error-rate', {
        alarmDescription: `Streamer: more than ${args.thresholds.errorRatePercent}% of WebSocket connects and messages got an integration error`,
        threshold: args.thresholds.errorRatePercent,
        metricQueries: [
          { id: 'integrationErrors', metric: apiMetric('IntegrationError'), returnData: false },
          { id: 'connects', metric: apiMetric('ConnectCount'), returnData: false },
          { id: 'messages', metric: apiMetric('MessageCount'), returnData: false },
          {
            id: 'integrationErrorRate',
            expression: 'IF(connects + messages > 0, 100 * integrationErrors / (connects + messages), 0)',
            label: 'Integration error rate (%)',
            returnData: true,
          },
        ],
      }),
    );

    alarms.push(
      alarm('stream-dlq-depth', {
        alarmDescription: 'Streamer: stream batches failed after every retry and wait in the dead-letter queue',
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: args.deadLetterQueue.name },
        statistic: 'Maximum',
        period: 60,
        threshold: 0,
      }),
    );
    this.alarms = alarms;

    this.dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: args.deploymentName,
        dashboardBody: pulumi.jsonStringify(dashboardBody({ ...args, region, alarmArns: alarms.map((a) => a.arn) })),
      },
      { parent: this },
    );
    this.dashboardUrl = pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;
    this.registerOutputs({ dashboardUrl: this.dashboardUrl, alarmTopicArn: this.alarmTopic?.arn });
  }
}

/** A dashboard metric: `[namespace, name, dimension, value, …, options]`, or `[{ expression, label, id }]`. */
type MetricLine = pulumi.Input<string | Readonly<Record<string, pulumi.Input<string>>>>[];

interface DashboardInput extends MonitoringArgs {
  readonly region: pulumi.Output<string>;
  readonly alarmArns: pulumi.Output<string>[];
}

/** Four panels (requests, latency, errors, connections), DynamoDB throttles, and every alarm's state. */
function dashboardBody(input: DashboardInput): object {
  const { region, deploymentName, functionNames, api, tables, deadLetterQueue } = input;
  const custom = (metric: string, stat: string, label: string): MetricLine => [
    METRICS_NAMESPACE,
    metric,
    METRIC_DIMENSIONS.service,
    deploymentName,
    { stat, label },
  ];
  const lambda = (metric: string, fn: FunctionName, stat: string): MetricLine => [
    'AWS/Lambda',
    metric,
    'FunctionName',
    functionNames[fn],
    { stat, label: `${fn} ${metric}` },
  ];
  const apiGateway = (metric: string, stat: string): MetricLine => [
    'AWS/ApiGateway',
    metric,
    'ApiId',
    api.api.id,
    'Stage',
    api.stageName,
    { stat, label: metric },
  ];
  const panel = (title: string, x: number, y: number, metrics: MetricLine[], stat = 'Sum') => ({
    type: 'metric',
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, region, view: 'timeSeries', stacked: false, period: 60, stat, metrics },
  });
  return {
    widgets: [
      panel('Requests', 0, 0, [
        custom(METRICS.requests, 'Sum', 'Accepted'),
        custom(METRICS.retries, 'Sum', 'Retries'),
        custom(METRICS.failures, 'Sum', 'Failed'),
        // Direct dispatch: invokes that failed (the stream started those requests), and claims that found
        // the request taken (one per queued request while direct dispatch is on: the billed second claim).
        custom(METRICS.directDispatchFailures, 'Sum', 'Direct dispatch failed'),
        custom(METRICS.claimsLost, 'Sum', 'Claims lost'),
        ...FUNCTION_NAMES.map((fn) => lambda('Invocations', fn, 'Sum')),
      ]),
      panel(
        'Latency (ms)',
        12,
        0,
        [
          custom(METRICS.handlerDuration, 'p50', 'Handler p50'),
          custom(METRICS.handlerDuration, 'p99', 'Handler p99'),
          custom(METRICS.queueWait, 'p99', 'Queue wait p99'),
          lambda('Duration', 'router', 'p99'),
          apiGateway('IntegrationLatency', 'p99'),
        ],
        'p99',
      ),
      panel('Errors', 0, 6, [
        ...FUNCTION_NAMES.map((fn) => lambda('Errors', fn, 'Sum')),
        apiGateway('IntegrationError', 'Sum'),
        apiGateway('ExecutionError', 'Sum'),
        apiGateway('ClientError', 'Sum'),
        ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', deadLetterQueue.name, { stat: 'Maximum', label: 'Stream DLQ depth' }],
      ]),
      panel('Connections', 12, 6, [
        apiGateway('ConnectCount', 'Sum'),
        apiGateway('MessageCount', 'Sum'),
        custom(METRICS.connectionsOpened, 'Sum', 'Opened'),
        custom(METRICS.connectionsClosed, 'Sum', 'Closed'),
        custom(METRICS.goneConnectionsPruned, 'Sum', 'Gone, pruned'),
        custom(METRICS.progressSent, 'Sum', 'Progress messages'),
      ]),
      panel('DynamoDB', 0, 12, [
        // Throttles are reported per table and operation: sum every operation of each table.
        ...Object.entries(tables.byName).map(([logical, { table }], i): MetricLine => [
          {
            id: `throttled${i}`,
            label: `${logical} throttled`,
            expression: pulumi.interpolate`SUM(SEARCH('{AWS/DynamoDB,Operation,TableName} MetricName="ThrottledRequests" TableName="${table.name}"', 'Sum', 60))`,
          },
        ]),
        // Region-wide (DynamoDB has no per-table UserErrors): a jump after a deploy often means a missing grant.
        ['AWS/DynamoDB', 'UserErrors', { stat: 'Sum', label: 'User errors (region)' }],
      ]),
      {
        type: 'alarm',
        x: 12,
        y: 12,
        width: 12,
        height: 6,
        properties: { title: 'Alarms', alarms: input.alarmArns },
      },
    ],
  };
}
