// The admin API client. The token lives in sessionStorage (this tab only) and goes in the
// Authorization header; it is never put in a request URL (a sign-in link carries it in the
// fragment, which app.js removes at once).
const TOKEN = 'isams-sync.token';
const SCHOOL = 'isams-sync.school';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.details = body?.error?.details;
    this.requestId = body?.error?.requestId;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN);
  },
  get schoolId() {
    return sessionStorage.getItem(SCHOOL);
  },
  save(token, schoolId) {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(SCHOOL, schoolId);
  },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(SCHOOL);
  },
};

/** `signal` (an AbortSignal, optional) cancels the request: it then rejects with an `AbortError`. */
async function request(method, path, body, token = session.token, signal = undefined) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    // Only the session's own token going bad signs the tab out (not a token being tried at sign-in).
    if (res.status === 401 && token === session.token)
      window.dispatchEvent(new CustomEvent('unauthenticated'));
    throw new ApiError(res.status, json);
  }
  return json;
}

/**
 * The requests of a search typed as the admin types: `next()` aborts the one before and gives the
 * signal of the new one, so only the answer to the latest text is shown (an older one rejects with
 * an AbortError, see {@link isAbort}); `abort()` when the page is left.
 */
export function latestOnly() {
  let controller;
  return {
    next() {
      controller?.abort();
      controller = new AbortController();
      return controller.signal;
    },
    abort() {
      controller?.abort();
    },
  };
}

/** Whether `err` is a request's abort (an older search replaced by a newer one): nothing to show. */
export const isAbort = (err) => err?.name === 'AbortError';

const school = (path) => `/api/v1/schools/${encodeURIComponent(session.schoolId)}${path}`;
const qs = (params) => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== '' && v !== null);
  return entries.length ? `?${new URLSearchParams(entries)}` : '';
};

/**
 * Follows a run's Server-Sent Events over fetch (EventSource cannot send the Authorization header).
 * Calls onRun for each update; resolves at `end`, rejects on a stream error or a broken connection.
 */
async function streamRun(id, onRun, signal) {
  const res = await fetch(school(`/sync-runs/${encodeURIComponent(id)}/events`), {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${session.token}` },
    signal,
  });
  if (!res.ok || !res.body) throw new ApiError(res.status, await res.json().catch(() => undefined));
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('The progress stream ended early');
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (event === 'run') onRun(JSON.parse(data));
      else if (event === 'end') return;
      else if (event === 'error') throw new Error(JSON.parse(data).message);
    }
  }
}

export const api = {
  streamRun,
  me: (token) => request('GET', '/api/v1/me', undefined, token),
  overview: () => request('GET', school('/overview')),
  settings: () => request('GET', school('/settings')),
  saveSettings: (body) => request('PUT', school('/settings'), body),
  testConnection: (body) => request('POST', school('/settings/test'), body),
  egress: () => request('GET', school('/egress')),
  thresholds: () => request('GET', school('/removal-thresholds')),
  saveThresholds: (body) => request('PUT', school('/removal-thresholds'), body),
  runSync: (body) => request('POST', school('/sync-runs'), body),
  runs: (params = {}) => request('GET', school(`/sync-runs${qs(params)}`)),
  run: (id) => request('GET', school(`/sync-runs/${encodeURIComponent(id)}`)),
  runRoster: (id) => request('GET', school(`/sync-runs/${encodeURIComponent(id)}/roster`)),
  runChanges: (id, params = {}) =>
    request('GET', school(`/sync-runs/${encodeURIComponent(id)}/changes${qs(params)}`)),
  runImpact: (id) => request('GET', school(`/sync-runs/${encodeURIComponent(id)}/impact`)),
  runFindings: (id) =>
    request('GET', school(`/sync-runs/${encodeURIComponent(id)}/findings${qs({ pageSize: 100 })}`)),
  evenings: () => request('GET', school('/evenings')),
  runUndo: (id) => request('GET', school(`/sync-runs/${encodeURIComponent(id)}/undo`)),
  undoRun: (id, comment) => request('POST', school(`/sync-runs/${encodeURIComponent(id)}/undo`), { comment }),
  events: (params = {}) => request('GET', school(`/events${qs(params)}`)),
  eventBookings: (id, params = {}) =>
    request('GET', school(`/events/${encodeURIComponent(id)}/bookings${qs(params)}`)),
  heldBatches: (params = {}) => request('GET', school(`/held-batches${qs(params)}`)),
  heldBatch: (id, params = {}, signal = undefined) =>
    request(
      'GET',
      school(`/held-batches/${encodeURIComponent(id)}${qs(params)}`),
      undefined,
      undefined,
      signal,
    ),
  heldImpact: (id) => request('GET', school(`/held-batches/${encodeURIComponent(id)}/impact`)),
  decide: (id, decision, comment, version) =>
    request('POST', school(`/held-batches/${encodeURIComponent(id)}/${decision}`), { comment, version }),
  roster: (type, params = {}, signal = undefined) =>
    request('GET', school(`/roster/${encodeURIComponent(type)}${qs(params)}`), undefined, undefined, signal),
};
