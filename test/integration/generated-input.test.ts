// Generated requests over HTTP to every endpoint of one real Ferry (two apps, users, groups with
// members and non-members, a chat file, an image, a voice message, a forwarded sign, a file never
// uploaded, avatars), with fast-check making the query strings (duplicated and unknown keys,
// int64 edges, unicode, percent-encoding, the web demo's "imgage_type"), the headers (Range,
// If-None-Match, credentials in headers or query, user_id/group_id), the tokens (each user's,
// another app's, tampered, expired, garbage) and the signs (readable or not by the caller,
// tampered, truncated, re-signed, another app's, percent-encoded).
//
// One oracle judges every answer, whatever the route: never a 5xx; JSON is Lanying's envelope
// (or the admin API's {error}); and no forbidden read: an answer that gives a file away (bytes
// with 200/206, a HEAD's length, a 304 or 416 about it, or a redirect that leads to the bytes)
// comes only when the access rules, computed here from the request as Ferry received it (who
// the token is, which file the sign names, who is in which group), let the caller read that
// file, and the bytes are exactly that file's bytes.
//
// Seeded: FERRY_FUZZ_SEED=<n> replays a run (the seed is printed on failure);
// FERRY_FUZZ_SCALE=<x> multiplies the number of cases.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';
import fc from 'fast-check';
import { RATE_LIMITS_OFF, startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { api, chatSlot, postMultipart, type Creds, type Slot } from '../helpers/client.ts';
import { accessToken, decodeJwt, mintJwt, nowSeconds, signOf, withPayload } from '../helpers/jwt.ts';
import { plainImage, voice } from '../helpers/media.ts';

const SEED = Number(process.env.FERRY_FUZZ_SEED ?? 20261127);
const SCALE = Number(process.env.FERRY_FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

// ---------------------------------------------------------------- the world

const A = 'fz';
const B = 'fz-other';
const SANDBOX = 'fz-sandbox';
const BIG = '9223372036854775807';
const ADMIN = '99';

interface FileEntry {
  label: string;
  app: string;
  bytes: Buffer;
  etag: string;
  /** a plain URL to it without credentials (a download_url) */
  url: string;
}

interface SignEntry {
  label: string;
  app: string;
  sign: string;
  claims: Record<string, unknown>;
  from: string;
  to: string;
  toType: 1 | 2;
  /** null: the slot was handed out but nothing was uploaded */
  file: FileEntry | null;
}

interface AvatarEntry {
  label: string;
  app: string;
  name: string;
  file: FileEntry;
}

interface Who {
  app: string;
  userId: string;
  admin: boolean;
}

interface TokenEntry {
  label: string;
  token: string;
  /** who Ferry must take it for; null: worthless everywhere */
  who: Who | null;
}

let f: TestFerry;
const secrets: Record<string, string> = {};
const tokens: TokenEntry[] = [];
const adminToken: Record<string, string> = {};
const signs: SignEntry[] = [];
const avatars: AvatarEntry[] = [];
/** `${app}/${group}` → user → role */
const groups = new Map<string, Map<string, string>>();
const usedSlotIds: string[] = [];
const etags: string[] = [];

const etagOf = (bytes: Buffer) => `"${createHash('sha256').update(bytes).digest('hex').slice(0, 40)}"`;

/** Deterministic bytes, so a seed replays the same run. */
function pseudoBytes(n: number, salt: number): Buffer {
  const out = Buffer.alloc(n);
  let x = 0x9e3779b9 ^ salt;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function fileEntry(label: string, app: string, bytes: Buffer, url: string): FileEntry {
  const e = { label, app, bytes, etag: etagOf(bytes), url };
  etags.push(e.etag);
  return e;
}

function addSign(label: string, app: string, url: string, file: FileEntry | null): SignEntry {
  const sign = signOf(url);
  const claims = decodeJwt(sign).payload;
  const e: SignEntry = { label, app, sign, claims, from: String(claims.from_id), to: String(claims.to_id), toType: claims.to_type as 1 | 2, file };
  signs.push(e);
  return e;
}

async function addGroup(app: string, group: string, owner: string, members: Array<[string, 'member' | 'admin']>): Promise<void> {
  await f.group(app, group, owner);
  const m = new Map<string, string>([[owner, 'owner']]);
  for (const [u, role] of members) {
    await f.member(app, group, u, role);
    m.set(u, role);
  }
  groups.set(`${app}/${group}`, m);
}

const creds = (app: string, user: string): Creds => ({ appId: app, token: tokens.find((t) => t.label === `${app}:${user}`)!.token });

/** Upload through a slot (keeping the slot id, which stays "used") and register the file. */
async function upload(label: string, app: string, from: string, params: { file_type: number; to_id: string; to_type: number }, bytes: Buffer): Promise<SignEntry> {
  const slot = await chatSlot(f.url, creds(app, from), params);
  const up = await postMultipart(slot.upload_url, bytes, { filename: `${label}.bin` });
  assert.equal(up.body.code, 200, `${label}: ${JSON.stringify(up.body)}`);
  usedSlotIds.push(slot.upload_url.split('/').pop()!);
  return addSign(label, app, slot.download_url, fileEntry(label, app, bytes, slot.download_url));
}

async function avatar(label: string, app: string, user: string, path: string, params: Record<string, string>, bytes: Buffer): Promise<void> {
  const r = await api<Slot>(f.url, path, params, creds(app, user));
  assert.equal(r.body.code, 200, `${label}: ${JSON.stringify(r.body)}`);
  const up = await postMultipart(r.body.data.upload_url, bytes, { filename: 'me.png' });
  assert.equal(up.body.code, 200, `${label}: ${JSON.stringify(up.body)}`);
  usedSlotIds.push(r.body.data.upload_url.split('/').pop()!);
  const name = new URL(r.body.data.download_url).searchParams.get('object_name')!;
  avatars.push({ label, app, name, file: fileEntry(label, app, bytes, r.body.data.download_url) });
}

before(async () => {
  // Thousands of requests from one address: rate limits (test/integration/rate-limits.test.ts) off.
  f = await startTestFerry(RATE_LIMITS_OFF);
  for (const id of [A, B, SANDBOX]) secrets[id] = (await f.createApp(id)).secret;

  const users: Record<string, string[]> = { [A]: ['1', '2', '3', '10', '11', '12', BIG], [B]: ['2', '3'] };
  for (const [app, list] of Object.entries(users)) {
    for (const u of list) tokens.push({ label: `${app}:${u}`, token: await f.token(app, u), who: { app, userId: u, admin: false } });
    adminToken[app] = await f.token(app, ADMIN, { role: 'admin' });
    tokens.push({ label: `${app}:admin`, token: adminToken[app]!, who: { app, userId: ADMIN, admin: true } });
  }
  const a = secrets[A]!;
  const u1 = creds(A, '1').token!;
  const past = nowSeconds() - 7200;
  tokens.push(
    // what an IM server holding the secret mints itself: valid
    { label: 'A:admin-hs512', token: accessToken(a, { app: A, sub: '20', role: 2 }, 'HS512'), who: { app: A, userId: '20', admin: true } },
    { label: 'A:11-numeric-sub-no-app', token: mintJwt(a, { sub: 11, role: 1, iat: nowSeconds(), exp: nowSeconds() + 3600 }), who: { app: A, userId: '11', admin: false } },
    // worthless
    { label: 'A:1-expired', token: accessToken(a, { app: A, sub: '1', iat: past, exp: past + 60 }), who: null },
    { label: 'A:1-tampered-to-admin', token: withPayload(u1, { ...decodeJwt(u1).payload, role: 2 }), who: null },
    { label: 'A:1-tampered-sub', token: withPayload(u1, { ...decodeJwt(u1).payload, sub: '2' }), who: null },
    { label: 'A:alg-none-admin', token: accessToken('', { app: A, sub: '1', role: 2 }, 'none'), who: null },
    { label: 'A:wrong-secret', token: accessToken('not-the-secret', { app: A, sub: '1', role: 2 }), who: null },
    { label: 'A-secret-claims-B', token: accessToken(a, { app: B, sub: '2' }), who: null },
    { label: 'A:role-3', token: accessToken(a, { app: A, sub: '1', role: 3 }), who: null },
    { label: 'A:sub-0', token: accessToken(a, { app: A, sub: '0' }), who: null },
    { label: 'A:sub-overflow', token: accessToken(a, { app: A, sub: '9223372036854775808' }), who: null },
    { label: 'A:sub-float', token: accessToken(a, { app: A, sub: 1.5 }), who: null },
    { label: 'sandbox:1', token: await f.token(SANDBOX, '1'), who: { app: SANDBOX, userId: '1', admin: false } },
    { label: 'truncated', token: u1.slice(0, u1.length - 5), who: null },
    { label: 'garbage', token: 'not.a.token', who: null },
    { label: 'garbage-unicode', token: 'tökén', who: null },
    { label: 'long', token: 'x'.repeat(5000), who: null },
  );

  await addGroup(A, '50', '10', [['11', 'member'], ['12', 'admin'], [BIG, 'member']]);
  await addGroup(A, '51', '3', []);
  // the same group id in the other app, with other members
  await addGroup(B, '50', '2', [['3', 'member']]);

  const direct = await upload('A:1→2 file', A, '1', { file_type: 100, to_id: '2', to_type: 1 }, pseudoBytes(70 * 1024, 1));
  await upload('A:11→group50 image', A, '11', { file_type: 102, to_id: '50', to_type: 2 }, await plainImage('png', 64, 48));
  await upload('A:2→1 voice', A, '2', { file_type: 101, to_id: '1', to_type: 1 }, voice('amr', 1));
  await upload('A:3→group51 file', A, '3', { file_type: 100, to_id: '51', to_type: 2 }, pseudoBytes(300, 2));
  await upload('A:1→BIG file', A, '1', { file_type: 100, to_id: BIG, to_type: 1 }, pseudoBytes(2000, 3));
  await upload('A:BIG→group50 shared', A, BIG, { file_type: 200, to_id: '50', to_type: 2 }, pseudoBytes(1000, 4));
  await upload('B:2→3 file', B, '2', { file_type: 100, to_id: '3', to_type: 1 }, pseudoBytes(500, 5));
  await upload('B:3→group50 file', B, '3', { file_type: 100, to_id: '50', to_type: 2 }, pseudoBytes(600, 6));

  // the receiver passes it on to user 3, who could not read it under the first sign
  const fwd = await api<string>(f.url, '/file/upload/forward', { file_sign: direct.sign, to_id: '3', to_type: 1 }, creds(A, '2'));
  assert.equal(fwd.body.code, 200, JSON.stringify(fwd.body));
  addSign('A:1→2 file forwarded by 2 to 3', A, fwd.body.data, direct.file);
  const pending = await chatSlot(f.url, creds(A, '1'), { file_type: 100, to_id: '2' });
  addSign('A:1→2 never uploaded', A, pending.download_url, null);

  await avatar('A:avatar of 1', A, '1', '/file/upload/avatar/user', {}, await plainImage('png', 40, 40));
  await avatar('A:avatar of group50', A, '10', '/file/upload/avatar/group', { group_id: '50' }, await plainImage('webp', 30, 30));
  await avatar('B:avatar of 2', B, '2', '/file/upload/avatar/user', {}, await plainImage('png', 20, 30));
});
after(() => f?.close());

// ---------------------------------------------------------------- the model (the access rules)

/** The request as Ferry receives it: path, query (first value of each key), headers (trimmed). */
interface Seen {
  method: string;
  path: string;
  q: Record<string, string>;
  h: Record<string, string>;
}

function seen(method: string, url: string, headers: Record<string, string>): Seen {
  const u = new URL(url);
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(parseQuery(u.search.slice(1)))) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) q[k] = first;
  }
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v.trim();
  return { method, path: u.pathname, q, h };
}

/** Header first, then query; empty is absent. */
function cred(s: Seen, name: string): string | undefined {
  return s.h[name] || s.q[name] || undefined;
}

/** A positive int64 in canonical decimal form, or null (written apart from src/ids.ts on purpose). */
function canonical(v: string): string | null {
  const t = v.trim();
  if (!/^\+?[0-9]{1,19}$/.test(t)) return null;
  const n = BigInt(t);
  return n >= 1n && n <= BigInt(BIG) ? n.toString() : null;
}

type Principal = { app: string; kind: 'user' | 'admin'; userId: string } | { app: string; kind: 'group-admin'; userId: string; groupId: string };

const tokenByValue = new Map<string, TokenEntry>();

/** Who the request is, as the design brief defines it; null when it is nobody. */
function principal(s: Seen, actAs: { user: boolean; group: boolean }): Principal | null {
  const app = cred(s, 'app_id')?.trim();
  const raw = cred(s, 'access-token')?.trim();
  if (app === undefined || raw === undefined) return null;
  if (tokenByValue.size === 0) for (const t of tokens) tokenByValue.set(t.token, t);
  const who = tokenByValue.get(raw)?.who;
  if (!who || who.app !== app) return null;
  const rawUser = actAs.user ? cred(s, 'user_id') : undefined;
  const rawGroup = actAs.group ? cred(s, 'group_id') : undefined;
  const asUser = rawUser === undefined ? undefined : canonical(rawUser);
  const asGroup = rawGroup === undefined ? undefined : canonical(rawGroup);
  if (asUser === null || asGroup === null) return null;
  if (!who.admin) {
    if ((asUser !== undefined && asUser !== who.userId) || asGroup !== undefined) return null;
    return { app, kind: 'user', userId: who.userId };
  }
  if (asUser !== undefined && asGroup !== undefined) return null;
  if (asUser !== undefined) return { app, kind: 'user', userId: asUser };
  if (asGroup !== undefined) return { app, kind: 'group-admin', userId: who.userId, groupId: asGroup };
  return { app, kind: 'admin', userId: who.userId };
}

const roleIn = (app: string, group: string, user: string) => groups.get(`${app}/${group}`)?.get(user);
const groupExists = (app: string, group: string) => groups.has(`${app}/${group}`);

function canRead(p: Principal, s: SignEntry): boolean {
  if (p.app !== s.app) return false;
  switch (p.kind) {
    case 'admin':
      return true;
    case 'group-admin':
      return groupExists(p.app, p.groupId) && s.toType === 2 && s.to === p.groupId;
    case 'user':
      return s.from === p.userId || (s.toType === 1 && s.to === p.userId) || (s.toType === 2 && roleIn(p.app, s.to, p.userId) !== undefined);
  }
}

function canSendTo(p: Principal, toType: 1 | 2, toId: string): boolean {
  if (toType === 1) return p.kind !== 'group-admin';
  if (!groupExists(p.app, toId)) return false;
  if (p.kind === 'admin') return true;
  if (p.kind === 'group-admin') return p.groupId === toId;
  return roleIn(p.app, toId, p.userId) !== undefined;
}

/** What clients do to a sign on its way back, undone (percent-encoded once or twice, a dragged "&…" tail). */
function signNamed(raw: string | undefined): SignEntry | undefined {
  if (raw === undefined) return undefined;
  let v = raw.trim();
  for (let i = 0; i < 2 && v.includes('%'); i++) {
    try {
      v = decodeURIComponent(v);
    } catch {
      break;
    }
  }
  v = v.split('&')[0]!;
  return signs.find((e) => e.sign === v);
}

function parseToType(v: string | undefined): 1 | 2 | null {
  if (v === undefined || v === '') return 1;
  return v === '1' ? 1 : v === '2' ? 2 : null;
}

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** The file this request may read, or null: the heart of the oracle. */
function mayRead(s: Seen): FileEntry | null {
  const route = safeDecode(s.path);
  if (route === '/file/download/chat') {
    const p = principal(s, { user: true, group: true });
    const sign = signNamed(s.q.file_sign);
    return p && sign?.file && canRead(p, sign) ? sign.file : null;
  }
  if (route === '/file/download/avatar') {
    // Avatars are public inside their app: any valid token of it; user_id/group_id mean nothing here.
    const p = principal(s, { user: false, group: false });
    const av = avatars.find((a) => a.name === s.q.object_name);
    return p && av && av.app === p.app ? av.file : null;
  }
  return null;
}

// ---------------------------------------------------------------- the oracle

interface Built {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array<ArrayBuffer> | FormData | string;
}

interface Judged {
  status: number;
  json: Record<string, unknown> | null;
  /** the answer gave a file away (and it was one the caller may read) */
  read: boolean;
}

const stats = { requests: 0, reads: 0, codes: {} as Record<string, number> };
/** What the answers were, for the failure message of a generator that stopped hitting anything. */
const tally = (status: number, json: Record<string, unknown> | null) => {
  const k = `${status}${json && 'code' in json ? `/${String(json.code)}` : ''}`;
  stats.codes[k] = (stats.codes[k] ?? 0) + 1;
};

const describe = (b: Built) => `${b.method} ${b.url.slice(0, 600)}${Object.keys(b.headers).length ? ` headers ${JSON.stringify(b.headers).slice(0, 600)}` : ''}`;

async function send(b: Built): Promise<Response> {
  stats.requests++;
  return fetch(b.url, { method: b.method, headers: b.headers, body: b.body, redirect: 'manual' });
}

const MEDIA_KEYS = ['image_type', 'w', 'h', 'format', 'thumbnail_strategy', 'source'];
const references = new Map<string, Promise<{ bytes: Buffer; etag: string } | null>>();

/**
 * The bytes this request should get of a file it may read: the file itself, or for a media
 * variant (thumbnail, cover, other voice format) what the app's admin gets with the same media
 * parameters through the file's own download_url.
 */
function expectedBytes(file: FileEntry, s: Seen): Promise<{ bytes: Buffer; etag: string } | null> {
  const media = MEDIA_KEYS.filter((k) => s.q[k] !== undefined).map((k) => `${k}=${encodeURIComponent(s.q[k]!)}`);
  if (media.length === 0) return Promise.resolve({ bytes: file.bytes, etag: file.etag });
  const key = `${file.url}&${media.join('&')}`;
  let ref = references.get(key);
  if (!ref) {
    ref = (async () => {
      const res = await fetch(`${key}&access-token=${adminToken[file.app]}&app_id=${file.app}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200 || (res.headers.get('content-type') ?? '').startsWith('application/json')) return null;
      return { bytes, etag: res.headers.get('etag') ?? '' };
    })();
    references.set(key, ref);
  }
  return ref;
}

const STACK = /\n\s+at |node_modules|\.ts:\d+/;

function checkEnvelope(j: unknown, where: string): void {
  assert.ok(j !== null && typeof j === 'object' && !Array.isArray(j), `not an object: ${where}`);
  const e = j as Record<string, unknown>;
  assert.deepEqual(Object.keys(e).sort(), ['code', 'data', 'message'], `not the envelope ${JSON.stringify(e).slice(0, 300)}: ${where}`);
  assert.equal(typeof e.code, 'number', where);
  assert.ok(e.message === null || typeof e.message === 'string', where);
  if (e.code !== 200) {
    assert.equal(e.data, null, `an error with data: ${where}`);
    assert.equal(typeof e.message, 'string', `an error without a message: ${where}`);
  }
}

function checkAdminShape(j: unknown, status: number, where: string): void {
  assert.ok(j !== null && typeof j === 'object' && !Array.isArray(j), `not an object: ${where}`);
  const e = j as Record<string, unknown>;
  if (status >= 400) {
    assert.deepEqual(Object.keys(e), ['error'], `not {error} (${status}) ${JSON.stringify(e).slice(0, 300)}: ${where}`);
    assert.equal(typeof e.error, 'string', where);
  } else {
    assert.ok(!('error' in e), `a success with an error: ${where}`);
  }
}

/**
 * Judge one answer against the properties every answer must have. A redirect is followed by
 * hand (no credentials), and what it leads to counts as this request's read.
 */
async function judge(b: Built, res: Response, hops = 0): Promise<Judged> {
  const where = describe(b);
  const s = seen(b.method, b.url, b.headers);
  assert.ok(res.status < 500, `HTTP ${res.status} for ${where}`);
  const body = Buffer.from(await res.arrayBuffer());
  const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
  let json: Record<string, unknown> | null = null;
  if (isJson && body.length > 0) {
    const text = body.toString('utf8');
    assert.ok(!STACK.test(text), `a stack trace or source path in an answer: ${text.slice(0, 300)} for ${where}`);
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      assert.fail(`invalid JSON (${res.status}): ${text.slice(0, 200)} for ${where}`);
    }
    if (safeDecode(s.path).startsWith('/admin/') && !('code' in json)) checkAdminShape(json, res.status, where);
    else checkEnvelope(json, where);
  }
  tally(res.status, json);

  if (res.status >= 300 && res.status < 400 && res.status !== 304) {
    const location = res.headers.get('location');
    assert.ok(location, `a ${res.status} without Location: ${where}`);
    assert.ok(hops < 3, `a chain of redirects: ${where}`);
    const next = new URL(location, b.url).toString();
    const followed = await judgeFollowed(b, s, await fetch(next, { redirect: 'manual' }), hops);
    return { status: res.status, json, read: followed };
  }

  const givesAway =
    res.status === 304 ||
    res.status === 416 ||
    (!isJson && (res.status === 200 || res.status === 206) && (body.length > 0 || (b.method === 'HEAD' && Number(res.headers.get('content-length')) > 0)));
  if (!givesAway) {
    // @fastify/cors answers an OPTIONS that is no CORS preflight (no Origin) in plain text; only
    // hand-made requests send one, and it says nothing about any file.
    const badPreflight = b.method === 'OPTIONS' && res.status === 400 && body.toString() === 'Invalid Preflight Request';
    if (!isJson && !badPreflight) assert.equal(body.length, 0, `a non-JSON answer (${res.status}, ${res.headers.get('content-type')}) that is no file: ${where}`);
    return { status: res.status, json, read: false };
  }

  const file = mayRead(s);
  assert.ok(file, `FORBIDDEN READ: HTTP ${res.status}, ${body.length} bytes for ${where}`);
  const want = await expectedBytes(file, s);
  assert.ok(want, `bytes for a media variant that ${file.label}'s admin cannot get: ${where}`);
  const size = want.bytes.length;
  if (res.status === 416) {
    assert.equal(res.headers.get('content-range'), `bytes */${size}`, where);
  } else {
    assert.equal(res.headers.get('etag'), want.etag, `the ETag of another file than ${file.label}: ${where}`);
  }
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
    assert.ok(m, `206 without a Content-Range: ${where}`);
    const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
    assert.equal(total, size, where);
    assert.ok(start <= end && end < size, where);
    if (b.method === 'HEAD') assert.equal(Number(res.headers.get('content-length')), end - start + 1, where);
    else assert.ok(body.equals(want.bytes.subarray(start, end + 1)), `206 bytes that are not ${file.label}'s ${start}-${end}: ${where}`);
  } else if (res.status === 200) {
    if (b.method === 'HEAD') assert.equal(Number(res.headers.get('content-length')), size, where);
    else assert.ok(body.equals(want.bytes), `bytes that are not ${file.label}'s (${body.length} vs ${size}): ${where}`);
  }
  stats.reads++;
  return { status: res.status, json, read: true };
}

/** A redirect's target, fetched without credentials: if it serves bytes, they are b's read. */
async function judgeFollowed(b: Built, s: Seen, res: Response, hops: number): Promise<boolean> {
  const where = `${describe(b)} → ${res.url}`;
  assert.ok(res.status < 500, `HTTP ${res.status} behind a redirect: ${where}`);
  if (res.status >= 300 && res.status < 400) {
    const next = new URL(res.headers.get('location') ?? '', res.url).toString();
    assert.ok(hops < 3, `a chain of redirects: ${where}`);
    return judgeFollowed(b, s, await fetch(next, { redirect: 'manual' }), hops + 1);
  }
  const body = Buffer.from(await res.arrayBuffer());
  const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
  if (isJson || res.status !== 200 || body.length === 0) return false;
  const file = mayRead(s);
  assert.ok(file, `FORBIDDEN READ through a redirect: ${body.length} bytes for ${where}`);
  const want = await expectedBytes(file, s);
  assert.ok(want && body.equals(want.bytes), `a redirect to bytes that are not ${file.label}'s: ${where}`);
  stats.reads++;
  return true;
}

async function request(b: Built): Promise<Judged> {
  let res: Response;
  try {
    res = await send(b);
  } catch (err) {
    throw new Error(`request failed (${(err as Error).message}; cause ${String((err as { cause?: unknown }).cause)}): ${describe(b)}`);
  }
  return judge(b, res);
}

// ---------------------------------------------------------------- the generators

const percentAll = (s: string) => [...Buffer.from(s, 'utf8')].map((c) => `%${c.toString(16).toUpperCase().padStart(2, '0')}`).join('');
type Enc = 'raw' | 'component' | 'all' | 'plus';
const ENCS: Enc[] = ['raw', 'raw', 'raw', 'component', 'all', 'plus'];
function encode(s: string, how: Enc): string {
  switch (how) {
    case 'raw':
      return s;
    case 'component':
      return component(s);
    case 'all':
      return percentAll(s);
    case 'plus':
      return component(s).replace(/%20/g, '+');
  }
}

/** encodeURIComponent, which throws on a lone surrogate; that one goes as U+FFFD's bytes. */
function component(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return percentAll(s);
  }
}

const ID_VALUES = [
  '1', '2', '3', '10', '11', '12', '20', '50', '51', '99', BIG, '9223372036854775808', '18446744073709551616', '0', '-1',
  '-9223372036854775808', '1.5', '1e3', '0x10', '+11', '011', ' 11', '11 ', 'abc', '', '１１', '٣', '9007199254740993',
  '11,12', 'null', 'undefined', '%31%31', '9'.repeat(50), '1\u0000', '-0',
];
const APP_VALUES = [A, B, SANDBOX, 'nope', '', 'FZ', ' fz', 'fz\u0000', '../fz', '中文', 'fz%00', 'a'.repeat(65), `${A},${B}`];
const RANGES = [
  'bytes=0-0', 'bytes=0-', 'bytes=5-10', 'bytes=-1', 'bytes=-0', 'bytes=-100', 'bytes=100000-', 'bytes=71679-', 'bytes=10-5',
  'bytes=0-1,5-6', 'items=0-1', 'bytes=abc', 'bytes=-99999999999999999999', 'bytes=99999999999999999999-', 'bytes= 0-1', 'bytes=0-99999999999',
  'bytes=1-1', 'bytes=-', 'bytes=0--1', 'BYTES=0-1',
];
const MEDIA_VALUES: Record<string, string[]> = {
  image_type: ['1', '2', '3', '', '0', '4', '02', ' 2', 'x', '２', '2.0', '-1'],
  imgage_type: ['1', '2', '3'],
  w: ['1', '100', '150', '399', '800', '10000', '10001', '0', '-5', '1.5', 'abc', '', '99999999', '1e3'],
  h: ['1', '100', '400', '2048', '0', 'x', ''],
  format: ['mp3', 'amr', '', 'wav', 'MP3', 'mp3 '],
  thumbnail_strategy: ['1', '2', '3', '', 'x'],
  source: ['miniprogram', 'web', '', 'MINIPROGRAM'],
};

type Pair = { k: string; v: string; enc: Enc; keyEnc: Enc } | { bare: string };

/** arb in `percent` % of the cases, null otherwise. */
const sometimes = <T>(arb: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(null) }, { weight: percent, arbitrary: arb });

/** Values that mean something in the world, usually; anything from the pool otherwise. */
const WORLD_IDS = ['1', '2', '3', '10', '11', '12', '50', '51', BIG];
const idArb = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...WORLD_IDS) }, { weight: 1, arbitrary: fc.constantFrom(...ID_VALUES) });

const encArb = fc.constantFrom(...ENCS);
const keyEncArb = fc.constantFrom<Enc>('raw', 'raw', 'raw', 'raw', 'all');
const weirdString = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }));

const anyMediaPairArb: fc.Arbitrary<Pair> = fc
  .record({ k: fc.constantFrom(...Object.keys(MEDIA_VALUES)), i: fc.nat(), enc: encArb, keyEnc: keyEncArb })
  .map(({ k, i, enc, keyEnc }) => ({ k, v: MEDIA_VALUES[k]![i % MEDIA_VALUES[k]!.length]!, enc, keyEnc }));
const GOOD_MEDIA: Array<[string, string]> = [
  ['image_type', '1'], ['image_type', '2'], ['image_type', '2'], ['image_type', '3'], ['w', '100'], ['w', '10000'], ['h', '1'],
  ['format', 'mp3'], ['format', 'amr'], ['source', 'miniprogram'], ['imgage_type', '2'], ['thumbnail_strategy', '2'],
];
/** Mostly none (the original), often ones that make sense, sometimes anything. */
const mediaArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Pair[]>([]) },
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...GOOD_MEDIA).map(([k, v]): Pair => ({ k, v, enc: 'raw', keyEnc: 'raw' })), { minLength: 1, maxLength: 2 }) },
  { weight: 1, arbitrary: fc.array(anyMediaPairArb, { minLength: 1, maxLength: 3 }) },
);

/** Unknown keys, repeated known ones with other values, bare keys. */
const noisePairArb: fc.Arbitrary<Pair> = fc.oneof(
  fc.record({
    k: fc.oneof(fc.constantFrom('x', 'callback', '_', 'sdk_sign', 'store_token', 'file_sign', 'object_name', 'app_id', 'access-token', 'user_id', 'group_id', 'to_id', 'to_type', 'file_type', 'image_type'), weirdString),
    v: fc.oneof(fc.constantFrom(...ID_VALUES, ...APP_VALUES), weirdString, fc.nat().map((i) => tokens[i % tokens.length]!.token), fc.nat().map((i) => signs[i % signs.length]!.sign)),
    enc: encArb,
    keyEnc: keyEncArb,
  }),
  fc.constantFrom<Pair>({ bare: '' }, { bare: 'file_sign' }, { bare: 'access-token' }, { bare: '&' }, { bare: '=' }, { bare: '==x' }),
);

/** Credentials: a token (usually one that means something), where it goes, and the app_id beside it. */
const credArb = fc.record({
  tok: fc.nat(),
  anyToken: fc.constantFrom(false, false, false, true),
  tokPlace: fc.constantFrom('q', 'q', 'q', 'q', 'q', 'h', 'h', 'both', 'hdr-garbage', 'q-empty-h', 'none'),
  app: fc.constantFrom('token', 'token', 'token', 'token', 'token', 'token', 'token', 'value'),
  appValue: fc.constantFrom(...APP_VALUES),
  appPlace: fc.constantFrom('q', 'q', 'q', 'q', 'q', 'h', 'h', 'both', 'none'),
  actAs: sometimes(fc.record({ key: fc.constantFrom('user_id', 'group_id'), v: idArb, place: fc.constantFrom('q', 'h') }), 25),
});
type CredCase = typeof credArb extends fc.Arbitrary<infer T> ? T : never;

/** A sign: which one (usually of the caller's app) and what was done to it. */
const signArb = fc.record({
  i: fc.nat(),
  pick: fc.constantFrom('readable', 'readable', 'same-app', 'any'),
  form: fc.constantFrom(
    'raw', 'raw', 'raw', 'raw', 'raw', 'raw', 'raw', 'raw', 'percent', 'percent-twice', 'tail', 'spaces',
    'payload-to-caller', 'payload-to-group', 'signature-flipped', 'truncated', 'resigned-with-app-secret', 'alg-none', 'garbage', 'empty',
  ),
  n: fc.nat(),
  id: fc.constantFrom(...ID_VALUES),
});
type SignCase = typeof signArb extends fc.Arbitrary<infer T> ? T : never;

const ORDERS = ['client', 'client', 'sorted', 'reversed', 'noise-first'] as const;

interface Parts {
  query: Pair[];
  noise: Pair[];
  headers: Record<string, string>;
  order: (typeof ORDERS)[number];
}

function credParts(c: CredCase): { query: Pair[]; headers: Record<string, string>; app: string; caller: Principal | null } {
  // mostly one that is somebody (of the two apps), sometimes any
  const pool = c.anyToken ? tokens : tokens.filter((x) => x.who && x.who.app !== SANDBOX);
  const t = pool[c.tok % pool.length]!;
  const app = c.app === 'token' ? (t.who?.app ?? A) : c.appValue;
  const query: Pair[] = [];
  const headers: Record<string, string> = {};
  const q = (k: string, v: string) => query.push({ k, v, enc: 'component', keyEnc: 'raw' });
  switch (c.tokPlace) {
    case 'q':
      q('access-token', t.token);
      break;
    case 'h':
      headers['access-token'] = t.token;
      break;
    case 'both':
      q('access-token', t.token);
      headers['access-token'] = t.token;
      break;
    case 'hdr-garbage':
      // the header wins, even over a good token in the query
      q('access-token', t.token);
      headers['access-token'] = 'garbage';
      break;
    case 'q-empty-h':
      // an empty header is no credential: the query's token counts
      q('access-token', t.token);
      headers['access-token'] = '';
      break;
  }
  if (c.appPlace === 'q' || c.appPlace === 'both') q('app_id', app);
  if (c.appPlace === 'h' || c.appPlace === 'both') headers.app_id = app;
  if (c.actAs) {
    if (c.actAs.place === 'q') q(c.actAs.key, c.actAs.v);
    else headers[c.actAs.key] = c.actAs.v;
  }
  // fetch refuses header values outside Latin-1 and NUL: those go in the query only
  for (const [k, v] of Object.entries(headers)) if (!/^[\x20-\x7e\xa0-\xff]*$/.test(v)) delete headers[k];
  const firsts: Record<string, string> = {};
  for (const p of query) if ('k' in p && !(p.k in firsts)) firsts[p.k] = p.v;
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) h[k] = v.trim();
  return { query, headers, app, caller: principal({ method: 'GET', path: '', q: firsts, h }, { user: true, group: true }) };
}

/**
 * Which sign: usually one the caller may read (picked with the model, so that reads are common
 * and the property has something to judge), or one of its app, or any.
 */
function signValue(c: SignCase, app: string, caller: Principal | null): string {
  const pool =
    c.pick === 'readable' && caller
      ? signs.filter((s) => s.file && canRead(caller, s))
      : c.pick === 'any'
        ? signs
        : signs.filter((s) => s.app === app);
  const e = (pool.length > 0 ? pool : signs)[c.i % (pool.length || signs.length)]!;
  const [h, , sig] = e.sign.split('.') as [string, string, string];
  switch (c.form) {
    case 'raw':
      return e.sign;
    case 'percent':
      return percentAll(e.sign);
    case 'percent-twice':
      return encodeURIComponent(percentAll(e.sign));
    case 'tail':
      return `${e.sign}${encodeURIComponent(`&access-token=x&app_id=${app}`)}`;
    case 'spaces':
      return ` ${e.sign} `;
    case 'payload-to-caller':
      return withPayload(e.sign, { ...e.claims, to_id: c.id, to_type: 1 });
    case 'payload-to-group':
      return withPayload(e.sign, { ...e.claims, from_id: c.id, to_id: '50', to_type: 2 });
    case 'signature-flipped': {
      const at = c.n % (sig.length - 1);
      const flipped = sig[at] === 'A' ? 'B' : 'A';
      return `${h}.${e.sign.split('.')[1]}.${sig.slice(0, at)}${flipped}${sig.slice(at + 1)}`;
    }
    case 'truncated':
      return e.sign.slice(0, c.n % e.sign.length);
    case 'resigned-with-app-secret':
      // whoever holds the app secret mints tokens, not signs
      return mintJwt(secrets[e.app]!, { ...e.claims, to_id: c.id });
    case 'alg-none':
      return mintJwt('', { ...e.claims, to_id: c.id }, 'none');
    case 'garbage':
      return `${c.id}.${c.id}.${c.id}`;
    case 'empty':
      return '';
  }
  return e.sign;
}

function serialize(p: Pair): string {
  return 'bare' in p ? p.bare : `${encode(p.k, p.keyEnc)}=${encode(p.v, p.enc)}`;
}

function buildUrl(path: string, parts: Parts): string {
  const main = parts.query;
  let all: Pair[];
  switch (parts.order) {
    case 'client':
      all = [...main, ...parts.noise];
      break;
    case 'sorted':
      all = [...main, ...parts.noise].sort((x, y) => ('k' in x ? x.k : x.bare).localeCompare('k' in y ? y.k : y.bare));
      break;
    case 'reversed':
      all = [...main, ...parts.noise].reverse();
      break;
    case 'noise-first':
      all = [...parts.noise, ...main];
      break;
  }
  const qs = all.map(serialize).join('&');
  return `${f.url}${path}${qs ? `?${qs}` : ''}`;
}

// ---------------------------------------------------------------- running properties

function runProperty<T>(name: string, n: number, seedOffset: number, arb: fc.Arbitrary<T>, check: (c: T) => Promise<void>): Promise<void> {
  const seed = SEED + seedOffset;
  return fc
    .assert(fc.asyncProperty(arb, check), { seed, numRuns: runs(n), includeErrorInReport: true })
    .catch((err: unknown) => {
      throw new Error(`${name} failed; replay with FERRY_FUZZ_SEED=${SEED} (this property's seed ${seed})\n${(err as Error).message}`);
    });
}

/** Plain requests, both ways: the model and Ferry agree on who reads what, so the oracle is not vacuous. */
async function agreement(): Promise<void> {
  const users = tokens.filter((t) => t.who);
  for (const t of [...users, ...tokens.filter((x) => !x.who)]) {
    for (const app of [A, B]) {
      for (const e of signs) {
        const b: Built = { method: 'GET', url: `${f.url}/file/download/chat?file_sign=${e.sign}&access-token=${t.token}&app_id=${app}`, headers: {} };
        const r = await request(b);
        const expect = mayRead(seen('GET', b.url, {})) !== null;
        assert.equal(r.read, expect, `${t.label} with app ${app} on ${e.label}: Ferry ${r.read ? 'served it' : `refused (${JSON.stringify(r.json)})`}`);
      }
      for (const av of avatars) {
        const b: Built = { method: 'GET', url: `${av.file.url}&access-token=${t.token}&app_id=${app}`, headers: {} };
        const r = await request(b);
        assert.equal(r.read, t.who?.app === app && av.app === app, `${t.label} with app ${app} on ${av.label}`);
      }
    }
  }
}

test('the oracle agrees with Ferry on plain requests of every token, sign and avatar', async () => {
  await agreement();
});

test('generated chat downloads (GET, HEAD): never a 5xx, always the envelope, no forbidden read', async () => {
  const before = { ...stats };
  stats.codes = {};
  let allowedReads = 0;
  const arb = fc.record({
    method: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'HEAD'),
    cred: credArb,
    sign: signArb,
    media: mediaArb,
    noise: fc.array(noisePairArb, { maxLength: 3 }),
    order: fc.constantFrom(...ORDERS),
    signEnc: fc.constantFrom<Enc>('raw', 'raw', 'raw', 'raw', 'component'),
    range: sometimes(fc.constantFrom(...RANGES), 30),
    ifRange: sometimes(fc.oneof(fc.constantFrom('"x"', 'W/"x"'), fc.nat().map((i) => etags[i % etags.length]!)), 10),
    inm: sometimes(fc.oneof(fc.constantFrom('*', '"x"', 'W/"x"', ''), fc.nat().map((i) => etags[i % etags.length]!)), 15),
  });
  await runProperty('chat downloads', 2500, 1, arb, async (c) => {
    const cp = credParts(c.cred);
    const headers = { ...cp.headers };
    if (c.range !== null) headers.range = c.range;
    if (c.ifRange !== null) headers['if-range'] = c.ifRange;
    if (c.inm !== null) headers['if-none-match'] = c.inm;
    const signPair: Pair = { k: 'file_sign', v: signValue(c.sign, cp.app, cp.caller), enc: c.signEnc, keyEnc: 'raw' };
    const url = buildUrl('/file/download/chat', { query: [signPair, ...c.media, ...cp.query], noise: c.noise, headers, order: c.order });
    const r = await request({ method: c.method, url, headers });
    if (r.read) allowedReads++;
  });
  const reads = stats.reads - before.reads;
  // not vacuous: a fair share of the generated requests were allowed and served, and most were not
  assert.ok(allowedReads > runs(2500) * 0.1, `only ${allowedReads} reads in ${runs(2500)} cases: ${JSON.stringify(stats.codes)}`);
  assert.ok(reads < runs(2500) * 0.8, `${reads} reads in ${runs(2500)} cases: the generator refuses too little`);
});

test('generated avatar downloads: any token of the app reads them, nothing else does', async () => {
  let reads = 0;
  const arb = fc.record({
    method: fc.constantFrom('GET', 'GET', 'HEAD'),
    cred: credArb,
    name: fc.oneof(
      { weight: 6, arbitrary: fc.nat().map((i) => avatars[i % avatars.length]!.name) },
      { weight: 1, arbitrary: fc.nat().map((i) => String(signs[i % signs.length]!.claims.fid)) },
      { weight: 1, arbitrary: fc.constantFrom('', '..', '../x', 'a/b', '%2e%2e', '.', 'x'.repeat(129), 'é', 'files/x', '\u0000') },
      { weight: 1, arbitrary: fc.nat().map((i) => `${avatars[i % avatars.length]!.name.toUpperCase()}`) },
    ),
    nameEnc: encArb,
    media: mediaArb,
    noise: fc.array(noisePairArb, { maxLength: 3 }),
    order: fc.constantFrom(...ORDERS),
    range: sometimes(fc.constantFrom(...RANGES), 30),
    inm: sometimes(fc.nat().map((i) => etags[i % etags.length]!), 15),
  });
  await runProperty('avatar downloads', 800, 2, arb, async (c) => {
    const cp = credParts(c.cred);
    const headers = { ...cp.headers };
    if (c.range !== null) headers.range = c.range;
    if (c.inm !== null) headers['if-none-match'] = c.inm;
    const url = buildUrl('/file/download/avatar', {
      query: [{ k: 'object_name', v: c.name, enc: c.nameEnc, keyEnc: 'raw' }, ...c.media, ...cp.query],
      noise: c.noise,
      headers,
      order: c.order,
    });
    if ((await request({ method: c.method, url, headers })).read) reads++;
  });
  assert.ok(reads > runs(800) * 0.1, `only ${reads} avatar reads in ${runs(800)} cases`);
});

test('generated slot and forward requests: success only for who may send there (and read the source)', async () => {
  const successes: Record<string, number> = {};
  const ROUTES = ['/file/upload/chat', '/file/upload/chat', '/file/upload/chat', '/file/upload/avatar/user', '/file/upload/avatar/group', '/file/upload/avatar/group', '/file/upload/forward', '/file/upload/forward'];
  const arb = fc.record({
    route: fc.constantFrom(...ROUTES),
    method: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'HEAD'),
    cred: credArb,
    fileType: sometimes(
      fc.oneof({ weight: 3, arbitrary: fc.constantFrom('100', '101', '102', '103', '104', '200', '201', '202', '203') }, { weight: 1, arbitrary: fc.constantFrom('99', '105', '1e2', '0100', ' 100', 'abc', '') }),
      90,
    ),
    toId: sometimes(idArb, 90),
    toType: sometimes(fc.constantFrom<string>('1', '2', '2', '', '3', '0', '01', 'x'), 70),
    groupId: idArb,
    // usually a target the caller may use (picked with the model), so that successes are common
    coherent: fc.constantFrom(true, true, false),
    pick: fc.nat(),
    sign: signArb,
    noise: fc.array(noisePairArb, { maxLength: 3 }),
    order: fc.constantFrom(...ORDERS),
  });
  await runProperty('slots and forward', 1000, 3, arb, async (c) => {
    const cp = credParts(c.cred);
    const q: Pair[] = [...cp.query];
    const add = (k: string, v: string | null) => v !== null && q.push({ k, v, enc: 'component', keyEnc: 'raw' });
    const p = cp.caller;
    let { fileType, toId, toType, groupId } = c;
    if (c.coherent && p) {
      const targets: Array<[string, string]> = [
        ...WORLD_IDS.map((u): [string, string] => ['1', u]),
        ...[...groups.keys()].filter((k) => k.startsWith(`${p.app}/`)).map((k): [string, string] => ['2', k.split('/')[1]!]),
      ].filter(([t, id]) => canSendTo(p, Number(t) as 1 | 2, id));
      if (targets.length > 0) [toType, toId] = targets[c.pick % targets.length]!;
      if (toType === '1' && fileType?.startsWith('2')) fileType = '100';
      const mine = [...groups.entries()].filter(([k, m]) => k.startsWith(`${p.app}/`) && (p.kind === 'admin' || ['owner', 'admin'].includes(m.get(p.userId) ?? '')));
      if (mine.length > 0) groupId = mine[c.pick % mine.length]![0].split('/')[1]!;
    }
    if (c.route === '/file/upload/chat') {
      add('file_type', fileType);
      add('to_id', toId);
      add('to_type', toType);
    } else if (c.route === '/file/upload/avatar/group') {
      add('group_id', groupId);
    } else if (c.route === '/file/upload/forward') {
      add('file_sign', signValue(c.sign, cp.app, cp.caller));
      add('to_id', toId);
      add('to_type', toType);
    }
    const b: Built = { method: c.method, url: buildUrl(c.route, { query: q, noise: c.noise, headers: cp.headers, order: c.order }), headers: cp.headers };
    const r = await request(b);
    if (c.method === 'HEAD' || r.json?.code !== 200) return;
    successes[c.route] = (successes[c.route] ?? 0) + 1;
    const where = describe(b);
    const s = seen(b.method, b.url, b.headers);
    const data = r.json.data as Record<string, unknown> | string;
    if (c.route === '/file/upload/forward') {
      const p = principal(s, { user: true, group: true });
      const source = signNamed(s.q.file_sign);
      const toType = parseToType(s.q.to_type);
      const toId = canonical(s.q.to_id ?? '');
      assert.ok(p && source?.file && canRead(p, source), `forwarded a file the caller may not read: ${where}`);
      assert.ok(toType && toId && canSendTo(p, toType, toId), `forwarded into a conversation the caller may not send to: ${where}`);
      assert.equal(typeof data, 'string', where);
      const claims = decodeJwt(signOf(data as string)).payload;
      assert.deepEqual([claims.app, claims.fid, claims.from_id, claims.to_id, claims.to_type], [p.app, source.claims.fid, p.userId, toId, toType], where);
      return;
    }
    const slot = data as Record<string, unknown>;
    assert.deepEqual(Object.keys(slot).sort(), ['download_url', 'oss_body_param', 'upload_method', 'upload_url'], where);
    assert.ok(String(slot.upload_url).startsWith(`${f.url}/file/slot/`), where);
    if (c.route === '/file/upload/chat') {
      const p = principal(s, { user: true, group: true });
      const toType = parseToType(s.q.to_type);
      const toId = canonical(s.q.to_id ?? '');
      assert.ok(p && toType && toId && canSendTo(p, toType, toId), `a slot to a conversation the caller may not send to: ${where}`);
      const claims = decodeJwt(signOf(String(slot.download_url))).payload;
      assert.deepEqual([claims.app, claims.from_id, claims.to_id, claims.to_type], [p.app, p.userId, toId, toType], where);
    } else if (c.route === '/file/upload/avatar/user') {
      assert.ok(principal(s, { user: true, group: true }), `an avatar slot for nobody: ${where}`);
    } else {
      const p = principal(s, { user: true, group: false });
      const g = canonical(s.q.group_id ?? '');
      assert.ok(p && g && groupExists(p.app, g), `a group avatar slot for no group: ${where}`);
      const role = roleIn(p.app, g, p.userId);
      assert.ok(p.kind === 'admin' || role === 'owner' || role === 'admin', `a group avatar slot for a non-admin of the group: ${where}`);
    }
  });
  for (const route of new Set(ROUTES)) assert.ok((successes[route] ?? 0) > 10, `too few successes on ${route}: ${JSON.stringify(successes)}`);
});

test('generated uploads to slot URLs: used and unknown slots refused, fresh ones take one file', async () => {
  const arb = fc.record({
    method: fc.constantFrom('POST', 'PUT'),
    slot: fc.constantFrom('fresh', 'fresh', 'used', 'garbage'),
    used: fc.nat(),
    garbage: fc.oneof(fc.constantFrom('x', 'a'.repeat(16), 'a'.repeat(65), '..', '%2e%2e', '中文中文中文中文中文中文中文中文', 'A'.repeat(300)), weirdString),
    body: fc.constantFrom('multipart', 'multipart', 'multipart-oss-fields', 'multipart-two-files', 'multipart-wrong-part', 'raw', 'raw-json-type', 'raw-no-type', 'multipart-no-boundary', 'multipart-broken'),
    bytes: fc.uint8Array({ minLength: 0, maxLength: 3000 }),
  });
  let stored = 0;
  await runProperty('slot uploads', 300, 4, arb, async (c) => {
    let slotId: string;
    let downloadUrl: string | null = null;
    if (c.slot === 'fresh') {
      const slot = await chatSlot(f.url, creds(A, '12'), { file_type: 100, to_id: '3' });
      slotId = slot.upload_url.split('/').pop()!;
      downloadUrl = slot.download_url;
    } else if (c.slot === 'used') slotId = usedSlotIds[c.used % usedSlotIds.length]!;
    else slotId = encodeURIComponent(c.garbage);
    const url = `${f.url}/file/slot/${slotId}`;
    const headers: Record<string, string> = {};
    let body: Built['body'];
    const form = (fill: (fd: FormData) => void) => {
      const fd = new FormData();
      fill(fd);
      return fd;
    };
    const blob = new Blob([new Uint8Array(c.bytes)]);
    switch (c.body) {
      case 'multipart':
        body = form((fd) => fd.append('file', blob, 'x.bin'));
        break;
      case 'multipart-oss-fields':
        body = form((fd) => {
          for (const k of ['OSSAccessKeyId', 'policy', 'signature', 'callback', 'key']) fd.append(k, 'undefined');
          fd.append('file', blob, 'x.bin');
        });
        break;
      case 'multipart-two-files':
        body = form((fd) => {
          fd.append('file', blob, 'a.bin');
          fd.append('file', blob, 'b.bin');
        });
        break;
      case 'multipart-wrong-part':
        body = form((fd) => fd.append('files', blob, 'x.bin'));
        break;
      case 'raw':
        headers['content-type'] = 'application/octet-stream';
        body = new Uint8Array(c.bytes);
        break;
      case 'raw-json-type':
        headers['content-type'] = 'application/json';
        body = new Uint8Array(c.bytes);
        break;
      case 'raw-no-type':
        body = new Uint8Array(c.bytes);
        break;
      case 'multipart-no-boundary':
        headers['content-type'] = 'multipart/form-data';
        body = new Uint8Array(c.bytes);
        break;
      case 'multipart-broken':
        headers['content-type'] = 'multipart/form-data; boundary=xyz';
        body = `--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n${Buffer.from(c.bytes).toString('latin1')}`;
        break;
    }
    const b: Built = { method: c.method, url, headers, body };
    const r = await request(b);
    assert.ok(r.json, `no JSON answer: ${describe(b)}`);
    if (c.slot !== 'fresh') {
      assert.notEqual(r.json.code, 200, `a used or unknown slot took an upload: ${describe(b)}`);
      return;
    }
    const clean = (c.body === 'multipart' || c.body === 'multipart-oss-fields' || c.body.startsWith('raw')) && c.bytes.length > 0;
    if (clean) assert.equal(r.json.code, 200, `a fresh slot refused one file: ${JSON.stringify(r.json)} for ${describe(b)}`);
    if (r.json.code === 200) {
      stored++;
      // what went in comes out, to the receiver, whole
      const got = await fetch(`${downloadUrl}&access-token=${creds(A, '3').token}&app_id=${A}`);
      assert.ok(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(c.bytes)), `uploaded bytes did not come back: ${describe(b)}`);
    }
  });
  assert.ok(stored > 10, `only ${stored} uploads stored`);
});

test('generated admin API calls: {error} with a real status, 401 without the key, the world untouched', async () => {
  const KEYS = ['right', 'right', 'right', 'none', 'wrong', 'empty', 'right-with-space', 'upper'] as const;
  const arb = fc.record({
    key: fc.constantFrom(...KEYS),
    route: fc.constantFrom('apps', 'tokens', 'tokens', 'group', 'member', 'member', 'remove-member'),
    app: fc.constantFrom(SANDBOX, SANDBOX, A, B, 'nope', '中文', 'a b', 'x'.repeat(70), '%2e%2e'),
    group: fc.constantFrom(...ID_VALUES.filter((v) => v !== '')),
    user: fc.constantFrom(...ID_VALUES.filter((v) => v !== '')),
    body: fc.oneof(
      fc.constantFrom('', '{}', '[]', 'null', '"x"', '{', '{"user_id":', 'not json', '{"user_id": 9223372036854775807}', '{"user_id": 1e400}', '{"user_id": -1}', '{"app_id": null}'),
      fc
        .record(
          {
            app_id: fc.oneof(fc.constantFrom('fz-new', '', 'a'.repeat(65), '中文', A), weirdString),
            user_id: fc.oneof(fc.constantFrom(...ID_VALUES), fc.integer(), fc.double()),
            owner_id: fc.oneof(fc.constantFrom(...ID_VALUES), fc.integer()),
            role: fc.constantFrom('user', 'admin', 'member', 'owner', 'root', '', 2),
            ttl_s: fc.oneof(fc.integer({ min: -10, max: 100000 }), fc.constantFrom(1e30, 0.5, '60')),
          },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o)),
    ),
    contentType: fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'none'),
  });
  await runProperty('admin API', 600, 5, arb, async (c) => {
    const right = c.key.startsWith('right');
    // With the right key, what changes anything stays in the sandbox app: the world of the
    // other properties must stay as they model it.
    const app = right && c.route !== 'tokens' && (c.app === A || c.app === B) ? SANDBOX : c.app;
    const e = encodeURIComponent;
    const [method, path] = {
      apps: ['POST', '/admin/apps'],
      tokens: ['POST', `/admin/apps/${e(app)}/tokens`],
      group: ['PUT', `/admin/apps/${e(app)}/groups/${e(c.group)}`],
      member: ['PUT', `/admin/apps/${e(app)}/groups/${e(c.group)}/members/${e(c.user)}`],
      'remove-member': ['DELETE', `/admin/apps/${e(app)}/groups/${e(c.group)}/members/${e(c.user)}`],
    }[c.route] as [string, string];
    let body = c.body;
    if (c.route === 'apps' && right) {
      // never an existing app id of the world (409 is fine, but keep it honest): only the sandbox or new ones
      try {
        const parsed = JSON.parse(body) as Record<string, unknown>;
        if (parsed && typeof parsed === 'object' && (parsed.app_id === A || parsed.app_id === B)) body = body.replace(/"app_id":"[^"]*"/, `"app_id":"${SANDBOX}"`);
      } catch {
        /* not JSON: sent as it is */
      }
    }
    const headers: Record<string, string> = {};
    if (c.contentType !== 'none' && body !== '') headers['content-type'] = c.contentType;
    if (c.key !== 'none') headers['x-admin-key'] = { right: f.adminKey, 'right-with-space': `${f.adminKey} `, wrong: 'nope', empty: '', upper: f.adminKey.toUpperCase(), none: '' }[c.key];
    const b: Built = { method, url: `${f.url}${path}`, headers, body: body === '' ? undefined : body };
    const r = await request(b);
    const where = describe(b);
    assert.ok(r.json, `no JSON from the admin API (${r.status}): ${where}`);
    if ('code' in r.json) {
      // a path no admin route matches (an over-long or empty parameter): Ferry's 404 envelope
      assert.equal(r.status, 404, where);
      return;
    }
    checkAdminShape(r.json, r.status, where);
    // HTTP trims the header value, so a trailing space is still the right key
    const keyOk = c.key === 'right' || c.key === 'right-with-space' || (c.key === 'upper' && f.adminKey.toUpperCase() === f.adminKey);
    if (!keyOk) assert.equal(r.status, 401, `the admin API answered without the key: ${where}`);
    else assert.notEqual(r.status, 401, where);
  });
});

test('generated unknown routes and methods: the envelope, never a file', async () => {
  const SEGMENTS = ['file', 'download', 'upload', 'chat', 'avatar', 'slot', 'admin', 'apps', 'forward', 'x', '..', '%2e%2e', '', '中文', '%00', 'CHAT', 'chat%2F', 'group', 'openapi.json', '%zz', '%E0%A4%A', 'a'.repeat(250)];
  const arb = fc.record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
    segments: fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SEGMENTS) }, { weight: 1, arbitrary: weirdString.map(component) }), { minLength: 0, maxLength: 5 }),
    trailing: fc.constantFrom('', '', '/', '//'),
    cred: credArb,
    sign: signArb,
    noise: fc.array(noisePairArb, { maxLength: 3 }),
    order: fc.constantFrom(...ORDERS),
  });
  await runProperty('unknown routes', 600, 6, arb, async (c) => {
    const cp = credParts(c.cred);
    const path = `/${c.segments.join('/')}${c.trailing}`;
    const url = buildUrl(path, { query: [{ k: 'file_sign', v: signValue(c.sign, cp.app, cp.caller), enc: 'raw', keyEnc: 'raw' }, ...cp.query], noise: c.noise, headers: cp.headers, order: c.order });
    const body = c.method === 'POST' || c.method === 'PUT' || c.method === 'PATCH' ? '{"a":1}' : undefined;
    await request({ method: c.method, url, headers: { ...cp.headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body });
  });
});

test('the oracle still agrees with Ferry after the generated requests (nothing they did changed who reads what)', async () => {
  await agreement();
});
