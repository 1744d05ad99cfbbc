/**
 * The local runtime enforces the deployment's roles, as AWS would: the same
 * protocol exchange that works on the rendered manifest fails, with
 * AccessDeniedException named in the runtime's output, when one statement
 * is removed from one role. Real function bundles, real DynamoDB Local.
 */
import { startLocalRuntime, type LocalRuntimeHandle } from '../support/local-runtime';
import { withoutStatement } from '../support/manifest-edits';
import { openSocket } from '../support/socket-client';

jest.setTimeout(90_000);

type Reply = { id?: string; type?: string; requestId?: string; error?: { code: string } };

/** Sends a queued request and returns its first reply. */
async function firstReplyToAQueuedRequest(runtime: LocalRuntimeHandle): Promise<Reply> {
  const socket = await openSocket(`${runtime.wsUrl}/?token=${runtime.mintToken({ sub: 'alice', tenant: 'acme' })}`);
  try {
    socket.send({ id: 'job-1', action: 'generate_report', payload: { rows: 10, stepDelayMs: 1 } });
    return await socket.next<Reply>((m) => m.id === 'job-1');
  } finally {
    await socket.close();
  }
}

describe('IAM on the rendered deployment', () => {
  it('accepts a queued request when the router role holds its Requests statement', async () => {
    const runtime = await startLocalRuntime({ env: { STREAMER_LOCAL_LOG_LEVEL: 'warn' } });
    try {
      expect(await firstReplyToAQueuedRequest(runtime)).toMatchObject({ type: 'ack' });
      expect(runtime.output()).not.toContain('ACCESS DENIED');
    } finally {
      await runtime.stop();
    }
  });

  it('fails the same request with AccessDenied once that statement is removed from the router role', async () => {
    const runtime = await startLocalRuntime({
      env: { STREAMER_LOCAL_LOG_LEVEL: 'warn' },
      editManifest: (manifest) => withoutStatement(manifest, 'router', 'Requests'),
    });
    try {
      // The router catches the store's AccessDeniedException and answers INTERNAL_ERROR: the request was never stored.
      expect(await firstReplyToAQueuedRequest(runtime)).toMatchObject({ type: 'error', error: { code: 'INTERNAL_ERROR' } });
      expect(runtime.output()).toMatch(
        new RegExp(`ACCESS DENIED: ${runtime.functionName('router')} \\(role streamer-router-[0-9a-f]{7}\\) may not dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/${runtime.tableName('requests')}`),
      );
      expect(runtime.output()).toContain('AccessDeniedException');
    } finally {
      await runtime.stop();
    }
  });
});
