// Bundled with esbuild by tarball-install.test.ts inside a scratch app, against the installed @streamer/client.
import { StreamerClient, StreamerError } from '@streamer/client';

const params = new URLSearchParams(location.search);
const client = new StreamerClient(params.get('url') ?? '', { token: params.get('token') ?? '' });
const out = document.getElementById('out') as HTMLElement;
client.request('echo', { from: 'a browser page' }).then(
  (data) => {
    out.textContent = JSON.stringify(data);
    out.dataset.state = 'done';
  },
  (error: unknown) => {
    out.textContent = error instanceof StreamerError ? `${error.code}: ${error.message}` : String(error);
    out.dataset.state = 'failed';
  },
);
