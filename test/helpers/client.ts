// What the real Lanying clients send, as small functions: query-string credentials (browsers),
// header credentials (server-side), multipart POST with a "file" part (web, mini-program,
// uni-app), raw PUT (Android), and download URLs extended by string concatenation.
export interface Envelope<T = unknown> {
  code: number;
  message: string | null;
  data: T;
}

export interface Slot {
  upload_url: string;
  upload_method: string;
  oss_body_param: Record<string, unknown>;
  download_url: string;
}

export interface Creds {
  appId: string;
  token?: string;
  /** send credentials as headers instead of query parameters */
  asHeaders?: boolean;
}

/** Build a Lanying API URL; keys sorted alphabetically, as the web SDK does. */
export function apiUrl(base: string, path: string, params: Record<string, string | number | undefined>, creds?: Creds): string {
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q[k] = String(v);
  if (creds && !creds.asHeaders) {
    q.app_id = creds.appId;
    if (creds.token !== undefined) q['access-token'] = creds.token;
  }
  const keys = Object.keys(q).sort();
  const qs = keys.map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(q[k]!)}`).join('&');
  return `${base}${path}${qs ? `?${qs}` : ''}`;
}

export function credHeaders(creds?: Creds): Record<string, string> {
  if (!creds?.asHeaders) return {};
  return { app_id: creds.appId, ...(creds.token !== undefined ? { 'access-token': creds.token } : {}) };
}

export async function getJson<T = unknown>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Envelope<T> }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: Envelope<T>;
  try {
    body = JSON.parse(text) as Envelope<T>;
  } catch {
    throw new Error(`not JSON (HTTP ${res.status}): ${text.slice(0, 200)}`);
  }
  return { status: res.status, body };
}

export async function api<T = unknown>(base: string, path: string, params: Record<string, string | number | undefined>, creds?: Creds) {
  return getJson<T>(apiUrl(base, path, params, creds), credHeaders(creds));
}

export async function chatSlot(base: string, creds: Creds, params: { file_type: number | string; to_id: string; to_type?: number | string }): Promise<Slot> {
  const r = await api<Slot>(base, '/file/upload/chat', params, creds);
  if (r.body.code !== 200) throw new Error(`slot refused: ${JSON.stringify(r.body)}`);
  return r.body.data;
}

/** The web SDK's upload: multipart POST, optional OSS fields first, the file in part "file". */
export async function postMultipart(
  uploadUrl: string,
  bytes: Uint8Array,
  opts: { fields?: Record<string, string>; filename?: string; partName?: string; extraFiles?: number; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Envelope<unknown> }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(opts.fields ?? {})) form.append(k, v);
  form.append(opts.partName ?? 'file', new Blob([new Uint8Array(bytes)]), opts.filename ?? 'file.bin');
  for (let i = 0; i < (opts.extraFiles ?? 0); i++) form.append('file', new Blob([new Uint8Array(bytes)]), `extra${i}.bin`);
  const res = await fetch(uploadUrl, { method: 'POST', body: form, headers: opts.headers });
  return { status: res.status, body: (await res.json()) as Envelope<unknown> };
}

/** Android's upload: raw PUT, application/octet-stream, no credentials. */
export async function putRaw(uploadUrl: string, bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<{ status: number; body: Envelope<unknown> }> {
  const res = await fetch(uploadUrl, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'content-type': contentType } });
  return { status: res.status, body: (await res.json()) as Envelope<unknown> };
}

/** Clients append credentials to download_url by string concatenation. */
export function withCreds(downloadUrl: string, creds: Creds, extra = ''): string {
  return `${downloadUrl}&access-token=${creds.token ?? ''}&app_id=${creds.appId}${extra}`;
}
