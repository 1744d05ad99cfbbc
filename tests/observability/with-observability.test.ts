/**
 * The wrapper every entry point uses: each log line of an invocation is JSON
 * with the Lambda request id, API Gateway's request id, the connection and
 * whatever the core learnt (action, tenant); the next invocation starts
 * clean; metrics are printed even when the handler throws.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { METRICS } from '../../functions/core/metric-names';
import { EmbeddedMetrics } from '../../functions/powertools-metrics';
import { observe } from '../../functions/with-observability';
import { captureJsonLines } from './capture-stdout';

interface Event {
  readonly connectionId: string;
  readonly apiRequestId: string;
  readonly token: string;
}

const context = (awsRequestId: string): Context =>
  ({
    awsRequestId,
    functionName: 'streamer-test-router',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:streamer-test-router',
    memoryLimitInMB: '512',
    logGroupName: '/aws/lambda/streamer-test-router',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 10_000,
  }) as unknown as Context;

function wrapped(logLevel = 'INFO') {
  const logger = new PowertoolsLogger({ serviceName: 'streamer-test', logLevel: logLevel as 'INFO' });
  const metrics = new EmbeddedMetrics({ namespace: 'Streamer', serviceName: 'streamer-test' });
  const handler = observe(
    { logger, metrics },
    async (event: Event) => {
      logger.info('Routing');
      // What the core does once it knows the caller (route-message.ts).
      logger.appendKeys({ action: 'echo', tenantId: 'tenant-a', userId: 'user-1' });
      logger.debug('Identity known');
      metrics.add(METRICS.requests, 1, 'Count', { action: 'echo', path: 'sync' });
      if (event.connectionId === 'boom') throw new Error('handler failed');
      logger.info('Replied');
      return { statusCode: 200 };
    },
    { keys: (event) => ({ connectionId: event.connectionId }), correlationId: (event) => event.apiRequestId },
  );
  return handler;
}

const event = (connectionId: string): Event => ({ connectionId, apiRequestId: `api-${connectionId}`, token: 'secret.jwt.token' });

describe('withObservability', () => {
  it('logs JSON lines that carry the request ids, the connection, the action and the tenant', async () => {
    const handler = wrapped();
    const lines = await captureJsonLines(() => handler(event('conn-1'), context('lambda-req-1')));
    const logs = lines.filter((line) => 'message' in line);
    expect(logs.map((l) => l.message)).toEqual(['Routing', 'Replied']);
    for (const log of logs) {
      expect(log).toMatchObject({
        level: 'INFO',
        service: 'streamer-test',
        function_request_id: 'lambda-req-1',
        function_name: 'streamer-test-router',
        correlation_id: 'api-conn-1',
        connectionId: 'conn-1',
      });
    }
    expect(logs[1]).toMatchObject({ action: 'echo', tenantId: 'tenant-a', userId: 'user-1' });
    expect(JSON.stringify(lines)).not.toContain('secret.jwt.token');
  });

  it('starts every invocation without the keys of the one before', async () => {
    const handler = wrapped();
    await captureJsonLines(() => handler(event('conn-1'), context('lambda-req-1')));
    const lines = await captureJsonLines(() => handler(event('conn-2'), context('lambda-req-2')));
    const [first] = lines.filter((line) => line.message === 'Routing');
    expect(first).toMatchObject({ function_request_id: 'lambda-req-2', correlation_id: 'api-conn-2', connectionId: 'conn-2' });
    expect(first).not.toHaveProperty('tenantId');
    expect(first).not.toHaveProperty('action');
  });

  it('logs at the configured level', async () => {
    const debug = await captureJsonLines(() => wrapped('DEBUG')(event('conn-1'), context('r')));
    expect(debug.map((l) => l.message)).toContain('Identity known');
    const warn = await captureJsonLines(() => wrapped('WARN')(event('conn-1'), context('r')));
    expect(warn.filter((l) => 'message' in l)).toEqual([]);
  });

  it('prints the invocation\'s metrics once it ends, also when the handler throws', async () => {
    const handler = wrapped();
    let thrown: unknown;
    const lines = await captureJsonLines(() => handler(event('boom'), context('lambda-req-3')).catch((error: unknown) => (thrown = error)));
    expect(thrown).toBeInstanceOf(Error);
    const emf = lines.filter((line) => '_aws' in line);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ RequestsAccepted: 1, action: 'echo', path: 'sync', service: 'streamer-test' });
  });
});
