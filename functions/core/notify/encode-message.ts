/**
 * One server message as the text a client receives. Every way a message
 * leaves Streamer goes through here: a `PostToConnection` (the notifier) and
 * the `$default` route response (the router's return value), so a rule about
 * what goes on the wire (a size limit, delivery by reference) is kept in one
 * place and holds for both.
 */
import type { ServerMessage } from '../protocol/messages';

/** The wire text of `message`, exactly as the client will parse it. */
export function encodeServerMessage(message: ServerMessage): string {
  return JSON.stringify(message);
}
