/**
 * A small React app on the installed @streamer/client and @streamer/react,
 * bundled with esbuild by react-hooks.test.ts inside a scratch app. Each job
 * remembers its requestId in sessionStorage, so after a reload it picks the
 * request up again with useRequestStatus. Rendered in StrictMode.
 */
import { StrictMode, useEffect, useState, version } from 'react';
import { createRoot } from 'react-dom/client';
import { StreamerClient } from '@streamer/client';
import { createStreamerHooks, StreamerProvider, useConnectionState, useRequestStatus, type RequestSnapshot } from '@streamer/react';

interface PageActions {
  generate_report: { payload: { rows: number; stepDelayMs?: number }; result: { summary: string; rows: number } };
  process_data: { payload: { items?: number; stepDelayMs?: number }; result: { processed: number } };
}

const params = new URLSearchParams(location.search);
const client = new StreamerClient<PageActions>(params.get('url') ?? '', { token: params.get('token') ?? '' });
const { useRequest } = createStreamerHooks<PageActions>();

function Connection() {
  const state = useConnectionState();
  return <span data-testid="connection" data-state={state} data-react={version}>{state}</span>;
}

function Job<K extends keyof PageActions & string>({ name, action, payload }: { name: string; action: K; payload: PageActions[K]['payload'] }) {
  const [savedId] = useState(() => sessionStorage.getItem(name) ?? undefined);
  const run = useRequest(action);
  const resumed = useRequestStatus<PageActions[K]['result']>(run.state === 'idle' ? savedId : undefined);
  useEffect(() => {
    if (run.requestId !== undefined) sessionStorage.setItem(name, run.requestId);
  }, [name, run.requestId]);
  const shown: RequestSnapshot<PageActions[K]['result']> = run.state === 'idle' && savedId !== undefined ? resumed : run;
  const cancel = () => (run.state === 'idle' ? void resumed.cancel() : run.cancel());
  return (
    <section data-testid={`job-${name}`} data-state={shown.state} data-request-id={shown.requestId ?? ''} data-resumed={String(run.state === 'idle')}>
      <button data-testid="start" onClick={() => void run.start(payload)}>Start {action}</button>
      <button data-testid="cancel" onClick={cancel}>Cancel</button>
      <progress data-testid="progress" value={shown.progress} max={1} data-value={shown.progress} />
      <span data-testid="message">{shown.message ?? ''}</span>
      <pre data-testid="data">{shown.data === undefined ? '' : JSON.stringify(shown.data)}</pre>
      <span data-testid="error">{shown.error ? `${shown.error.code}` : ''}</span>
    </section>
  );
}

/** Watches any request by id while shown (e.g. one started elsewhere); hiding it unmounts the watcher. */
function Watcher() {
  const [requestId, setRequestId] = useState('');
  const [shown, setShown] = useState(false);
  return (
    <section>
      <input data-testid="watch-id" value={requestId} onChange={(event) => setRequestId(event.target.value)} />
      <button data-testid="watch-toggle" onClick={() => setShown(!shown)}>{shown ? 'Unwatch' : 'Watch'}</button>
      {shown && <Watched requestId={requestId} />}
    </section>
  );
}

function Watched({ requestId }: { requestId: string }) {
  const watched = useRequestStatus(requestId);
  return <span data-testid="watched" data-state={watched.state} data-value={watched.progress}>{watched.message ?? ''}</span>;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StreamerProvider client={client}>
      <Connection />
      <Job name="report" action="generate_report" payload={{ rows: 300, stepDelayMs: 600 }} />
      <Job name="slow" action="process_data" payload={{ items: 10, stepDelayMs: 2000 }} />
      <Watcher />
    </StreamerProvider>
  </StrictMode>,
);
