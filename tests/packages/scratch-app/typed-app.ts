// Type-checked by tarball-install.test.ts inside a scratch app, against the installed packages' .d.ts.
import { StreamerClient, StreamerError, type ProgressMessage } from '@streamer/client';
import { createStreamerHooks, StreamerProvider, useConnectionState, useRequestStatus, type RequestState } from '@streamer/react';
import { createElement, type ReactNode } from 'react';

interface Actions {
  generate_report: { payload: { rows: number; stepDelayMs?: number }; result: { summary: string } };
}

const client = new StreamerClient<Actions>('ws://127.0.0.1:1', { autoConnect: false });
const { useRequest } = createStreamerHooks<Actions>();

export function Report(): ReactNode {
  const report = useRequest('generate_report');
  const resumed = useRequestStatus<{ summary: string }>(report.requestId);
  const connection: 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' = useConnectionState();
  const state: RequestState = report.state;
  const summary: string | undefined = report.data?.summary ?? resumed.data?.summary;
  const error: StreamerError | undefined = report.error;
  return createElement('button', { onClick: () => void report.start({ rows: 10 }) }, connection, state, summary, error?.code);
}

export const app = createElement(StreamerProvider<Actions>, { client }, createElement(Report));

export async function wrongCalls(onProgress: (p: ProgressMessage) => void): Promise<void> {
  // @ts-expect-error rows must be a number
  await client.request('generate_report', { rows: 'ten' }, { onProgress });
  // @ts-expect-error not an action of Actions
  await client.request('no_such_action', {});
}

export function WrongHook(): ReactNode {
  // @ts-expect-error not an action of Actions
  useRequest('no_such_action');
  const report = useRequest('generate_report');
  // @ts-expect-error the payload is typed too
  void report.start({ rows: 'ten' });
  return null;
}
