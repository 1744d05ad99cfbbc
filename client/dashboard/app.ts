/**
 * The live dashboard: start requests of the shipped handlers, watch their
 * progress, cancel them. It uses the browser SDK exactly as an application
 * would. The local runtime serves it and mints a development token at
 * `/dev-token`; elsewhere, pass `?url=wss://…&token=…` in the page's address.
 */
import { StreamerClient, StreamerError, type ConnectionState, type ProgressMessage } from '../index';

interface DevToken {
  readonly token: string;
  readonly wsUrl: string;
}

type RowStatus = 'sending' | 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';

interface Row {
  readonly element: HTMLTableRowElement;
  readonly startedAt: number;
  finishedAt?: number;
  status: RowStatus;
  readonly controller: AbortController;
}

const DEFAULT_PAYLOADS: Record<string, string> = {
  generate_report: '{"rows": 1000, "stepDelayMs": 300}',
  process_data: '{"items": 250, "stepDelayMs": 300}',
  echo: '{"hello": "world"}',
  export_rows: '{"rows": 50000, "width": 100}',
};
const MAX_ROWS = 50;
const TERMINAL: ReadonlySet<RowStatus> = new Set(['completed', 'failed', 'cancelled']);

const params = new URLSearchParams(location.search);
const sub = params.get('sub') ?? 'dashboard';
const tenant = params.get('tenant') ?? 'demo';
const rows = new Map<string, Row>();
let rowCounter = 0;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

async function devToken(): Promise<DevToken> {
  const response = await fetch(`/dev-token?sub=${encodeURIComponent(sub)}&tenant=${encodeURIComponent(tenant)}`, { cache: 'no-store' });
  if (!response.ok) throw new Error(`/dev-token answered ${response.status}`);
  return (await response.json()) as DevToken;
}

async function start(): Promise<void> {
  const explicitUrl = params.get('url');
  const explicitToken = params.get('token');
  let url: string;
  let token: string | (() => Promise<string>);
  if (explicitUrl !== null && explicitToken !== null) {
    url = explicitUrl;
    token = explicitToken;
  } else {
    const first = await devToken();
    url = explicitUrl ?? first.wsUrl;
    let fresh: string | null = first.token;
    // A fresh token on every reconnect: the first one is used once, then re-minted.
    token = async () => {
      const next = fresh ?? (await devToken()).token;
      fresh = null;
      return next;
    };
  }
  $('identity').textContent = `${sub} @ ${tenant}`;

  const client = new StreamerClient(url, {
    token,
    onStateChange: showState,
    onError: (error) => showFormError(`${error.code}: ${error.message}`),
  });
  showState(client.state);
  wireForm(client);
  setInterval(tickTimes, 250);
}

function showState(state: ConnectionState): void {
  const badge = $('connection-state');
  badge.textContent = state;
  badge.dataset.state = state;
}

function wireForm(client: StreamerClient): void {
  const action = $<HTMLSelectElement>('action');
  const payload = $<HTMLInputElement>('payload');
  payload.value = DEFAULT_PAYLOADS[action.value] ?? '{}';
  action.addEventListener('change', () => {
    payload.value = DEFAULT_PAYLOADS[action.value] ?? '{}';
  });
  $<HTMLFormElement>('request-form').addEventListener('submit', (event) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.value || '{}');
    } catch {
      showFormError('The payload is not valid JSON');
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      showFormError('The payload must be a JSON object');
      return;
    }
    showFormError('');
    void run(client, action.value, parsed as Record<string, unknown>);
  });
}

async function run(client: StreamerClient, action: string, payload: Record<string, unknown>): Promise<void> {
  const key = `row-${++rowCounter}`;
  const row = addRow(key, action);
  try {
    const data = await client.request(action, payload, {
      signal: row.controller.signal,
      onAccepted: (requestId) => {
        row.element.dataset.requestId = requestId;
        if (row.status === 'sending') setStatus(row, 'queued');
      },
      onProgress: (progress) => showProgress(row, progress),
    });
    setProgress(row, 1);
    const text = JSON.stringify(data, null, 2);
    if (text.length <= LARGE_RESULT_CHARS) finish(row, 'completed', text);
    else finishWithDownload(row, text);
  } catch (error) {
    const streamerError = error instanceof StreamerError ? error : new StreamerError('INTERNAL_ERROR', String(error));
    const status: RowStatus = streamerError.code === 'CANCELLED' ? 'cancelled' : 'failed';
    cell(row, 'message').textContent = streamerError.message;
    finish(row, status, `${streamerError.code}: ${streamerError.message}${streamerError.details ? `\n${JSON.stringify(streamerError.details, null, 2)}` : ''}`);
  }
}

function addRow(key: string, action: string): Row {
  const element = document.createElement('tr');
  element.id = key;
  element.dataset.testid = 'request-row';
  element.innerHTML = `
    <td data-cell="action"></td>
    <td data-cell="status" class="status" data-testid="request-status"></td>
    <td><div class="bar-row">
      <div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0" data-testid="progress-bar"><div class="fill"></div></div>
      <span class="pct" data-testid="progress-text">0%</span>
    </div></td>
    <td data-cell="message" data-testid="request-message"></td>
    <td data-cell="time" class="time" data-testid="request-time"></td>
    <td data-cell="actions"><button type="button" data-testid="cancel-button">Cancel</button></td>`;
  cell({ element }, 'action').textContent = action;
  const row: Row = { element, startedAt: performance.now(), status: 'sending', controller: new AbortController() };
  element.querySelector('button')!.addEventListener('click', () => row.controller.abort());
  setStatus(row, 'sending');
  rows.set(key, row);
  const body = $('request-rows');
  body.prepend(element);
  $('empty').hidden = true;
  while (body.children.length > MAX_ROWS) {
    const last = body.lastElementChild as HTMLTableRowElement;
    rows.delete(last.id);
    last.remove();
  }
  tickTimes();
  return row;
}

function showProgress(row: Row, progress: ProgressMessage): void {
  if (row.status === 'sending' || row.status === 'queued') setStatus(row, 'processing');
  setProgress(row, progress.progress);
  if (progress.message !== undefined) cell(row, 'message').textContent = progress.message;
}

function setProgress(row: Row, fraction: number): void {
  const percent = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  const bar = row.element.querySelector<HTMLElement>('[data-testid="progress-bar"]')!;
  bar.setAttribute('aria-valuenow', String(percent));
  bar.querySelector<HTMLElement>('.fill')!.style.width = `${percent}%`;
  row.element.querySelector('[data-testid="progress-text"]')!.textContent = `${percent}%`;
}

function setStatus(row: Row, status: RowStatus): void {
  row.status = status;
  row.element.dataset.status = status;
  cell(row, 'status').textContent = status;
}

function finish(row: Row, status: RowStatus, detail: string): void {
  row.finishedAt = performance.now();
  setStatus(row, status);
  row.element.querySelector<HTMLButtonElement>('[data-testid="cancel-button"]')!.disabled = true;
  const details = document.createElement('details');
  details.innerHTML = '<summary>details</summary><pre data-testid="request-detail"></pre>';
  details.querySelector('pre')!.textContent = detail;
  const message = cell(row, 'message');
  if (status === 'completed') message.textContent = 'Done';
  message.append(details);
  tickTimes();
}

/** Results longer than this are not rendered whole (a 5 MB <pre> stalls the page): a preview and a download instead. */
const LARGE_RESULT_CHARS = 100_000;
const PREVIEW_CHARS = 2_000;

function finishWithDownload(row: Row, text: string): void {
  const bytes = new TextEncoder().encode(text).length;
  finish(row, 'completed', `${text.slice(0, PREVIEW_CHARS)}\n… (${(bytes / 1e6).toFixed(1)} MB in all: download it for the rest)`);
  const link = document.createElement('a');
  link.dataset.testid = 'download-result';
  link.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  link.download = `${row.element.dataset.requestId ?? row.element.id}.json`;
  link.textContent = `Download result (${(bytes / 1e6).toFixed(1)} MB)`;
  cell(row, 'message').append(' ', link);
}

function tickTimes(): void {
  const now = performance.now();
  for (const row of rows.values()) {
    if (row.finishedAt !== undefined && row.element.dataset.timed === 'final') continue;
    const elapsed = (row.finishedAt ?? now) - row.startedAt;
    cell(row, 'time').textContent = elapsed < 1000 ? `${Math.round(elapsed)} ms` : `${(elapsed / 1000).toFixed(1)} s`;
    if (row.finishedAt !== undefined) row.element.dataset.timed = 'final';
    if (TERMINAL.has(row.status) && row.finishedAt === undefined) row.finishedAt = now;
  }
}

function cell(row: Pick<Row, 'element'>, name: string): HTMLElement {
  return row.element.querySelector<HTMLElement>(`[data-cell="${name}"]`)!;
}

function showFormError(text: string): void {
  $('form-error').textContent = text;
}

start().catch((error: unknown) => {
  showState('closed');
  showFormError(`Cannot connect: ${error instanceof Error ? error.message : String(error)}`);
});
