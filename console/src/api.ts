// Every call the console makes goes through here: the admin key rides in x-admin-key (never a
// cookie), and a refusal becomes an ApiError carrying the API's own message, verbatim.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** the route does not exist on this Ferry (an older or partial build): not the caller's fault */
    readonly unavailable = false,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

/** The API's message: admin calls answer {error}; Lanying calls the envelope {code, message}. */
function messageOf(status: number, body: unknown, text: string): string {
  if (body && typeof body === 'object') {
    const b = body as Json;
    if (typeof b.error === 'string') return b.error;
    if (typeof b.message === 'string') return typeof b.code === 'number' ? `${b.message} (code ${b.code})` : b.message;
  }
  return text.trim() ? `HTTP ${status}: ${text.trim().slice(0, 300)}` : `HTTP ${status}`;
}

async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { cache: 'no-store', ...init });
  } catch (err) {
    throw new ApiError(0, `Ferry could not be reached (${err instanceof Error ? err.message : String(err)})`);
  }
}

export class Api {
  constructor(readonly key: string) {}

  /** An admin call: JSON in, JSON out; any non-2xx throws ApiError with the API's message. */
  async admin<T = Json>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { 'x-admin-key': this.key };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = null;
    }
    if (!res.ok) {
      // An admin route that exists answers {error}; a 404 in the Lanying envelope ("no route …")
      // means this Ferry has no such call at all.
      const unavailable = res.status === 404 && !(parsed && typeof (parsed as Json).error === 'string');
      throw new ApiError(res.status, messageOf(res.status, parsed, text), unavailable);
    }
    if (parsed === null) throw new ApiError(res.status, `the answer was not JSON: ${text.slice(0, 200)}`);
    return parsed as T;
  }

  /**
   * A plain GET of a service endpoint (/readyz, /metrics): status and text, never a throw on 503.
   * They are not admin routes, so the admin key is not sent to them.
   */
  async plain(path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    const res = await request(path, { headers });
    return { status: res.status, text: await res.text() };
  }
}

/** Lanying calls (slots, forwards) answer HTTP 200 with {code, message, data}; code 200 is success. */
export async function lanying<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await request(url, init);
  const text = await res.text();
  let body: Json | null = null;
  try {
    body = JSON.parse(text) as Json;
  } catch {
    body = null;
  }
  if (!body || body.code !== 200) throw new ApiError(res.status, messageOf(res.status, body, text));
  return body.data as T;
}

const KEY = 'ferry.console.adminKey';
export const session = {
  load: (): string | null => sessionStorage.getItem(KEY),
  save: (key: string) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

export const APP_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const ID = /^[1-9]\d{0,18}$/;

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export const formatTime = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—');
