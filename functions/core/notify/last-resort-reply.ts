/**
 * When the router cannot do its work at all (a misconfigured function, a
 * failure routing did not turn into a reply), the client still hears that
 * its frame failed: an `INTERNAL_ERROR` carrying the frame's `id` when one
 * can be read, sent through whatever way of reaching the connection is left.
 * The invocation still fails afterwards, so the function's error alarm counts it.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { StreamerError } from '../errors';
import { parseClientFrame } from '../protocol/envelope';
import { errorMessage, type ServerMessage } from '../protocol/messages';
import { ApiGatewayNotifier, type Notifier } from './notifier';

export interface FailedFrame {
  readonly connectionId: string;
  readonly body: string | undefined | null;
  readonly isBase64Encoded?: boolean;
}

/** The `INTERNAL_ERROR` reply for a frame the router could not handle. */
export function internalErrorReply(frame: FailedFrame): ServerMessage {
  const text = frame.isBase64Encoded && typeof frame.body === 'string' ? Buffer.from(frame.body, 'base64').toString('utf8') : frame.body;
  const parsed = parseClientFrame(text);
  const id = parsed.ok ? parsed.envelope.id : parsed.id;
  return errorMessage(id, new StreamerError('INTERNAL_ERROR', 'The server could not handle this request; try again later').toWire());
}

/** A notifier that needs nothing but the management endpoint (no stores: a gone connection is not pruned). */
export function bareNotifier(endpoint: string): Notifier {
  return new ApiGatewayNotifier(new ApiGatewayManagementApiClient({ endpoint }), async () => undefined);
}

/** Sends the `INTERNAL_ERROR` reply; never throws (the caller is already failing). */
export async function replyInternalError(notifier: Notifier | undefined, frame: FailedFrame): Promise<void> {
  if (!notifier) return;
  try {
    await notifier.send(frame.connectionId, internalErrorReply(frame));
  } catch {
    // Nothing more can reach the client; the invocation's own error is what matters now.
  }
}
