// Running Ferry in production: /healthz, /readyz (turning 503 when the database or the store
// goes, and back), /metrics (parses, moves by the right amounts, optional bearer token), the
// access log and its request ids, no credential in the log at debug, /openapi.json and /docs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { isScaleOut, modeEnv, startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { chatSlot, postMultipart, putRaw, withCreds, type Creds } from '../helpers/client.ts';
import { parsePrometheus, valueOf, type Sample } from '../helpers/prometheus.ts';

async function readyz(url: string): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** /readyz keeps an answer for a second: poll until it says what we wait for. */
async function readyzUntil(url: string, status: number): Promise<Record<string, string>> {
  let last: { status: number; body: Record<string, string> } | undefined;
  for (let i = 0; i < 50; i++) {
    last = await readyz(url);
    if (last.status === status) return last.body;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`/readyz never answered ${status}; last: ${JSON.stringify(last)}`);
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`, { headers });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return parsePrometheus(await res.text()).samples;
}

/** Collects a Ferry's log lines (pino JSON) in memory. */
function logCapture(): { stream: Writable; text: () => string; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('health and readiness', () => {
  let f: TestFerry;
  before(async () => {
    f = await startTestFerry();
  });
  after(() => f.close());

  test('/healthz answers 200 while the process runs; /readyz 200 naming both checks', async () => {
    const h = await fetch(`${f.url}/healthz`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { status: 'ok' });
    const r = await readyz(f.url);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ready', database: 'ok', store: 'ok' });
  });

  test('/readyz is cheap to poll: 50 polls at once cost at most one check of each dependency', async () => {
    let pings = 0;
    // The readiness check holds the stores it was built with: count the pings it sends.
    const deps = (f.ferry.services.readiness as unknown as { deps: { database: { ping(): Promise<void> } } }).deps;
    const before = deps.database;
    deps.database = {
      ping: async () => {
        pings++;
        return before.ping();
      },
    };
    try {
      await new Promise((r) => setTimeout(r, 1100)); // let the cached answer expire
      const answers = await Promise.all(Array.from({ length: 50 }, () => readyz(f.url)));
      assert.ok(answers.every((a) => a.status === 200));
      assert.equal(pings, 1, 'one check served 50 polls');
    } finally {
      deps.database = before;
    }
  });

  if (!isScaleOut(modeEnv())) {
    test('embedded: /readyz turns 503 naming the database when its file is moved away, and 200 when it is back', async () => {
      const db = path.join(f.dataDir, 'ferry.sqlite');
      fs.renameSync(db, `${db}.away`);
      try {
        const body = await readyzUntil(f.url, 503);
        assert.equal(body.status, 'not ready');
        assert.equal(body.database, 'unreachable');
        assert.equal(body.store, 'ok');
        assert.match(body.message ?? '', /database is not reachable/);
        assert.doesNotMatch(JSON.stringify(body), new RegExp(f.dataDir), 'no folder names to unauthenticated callers');
      } finally {
        fs.renameSync(`${db}.away`, db);
      }
      assert.deepEqual(await readyzUntil(f.url, 200), { status: 'ready', database: 'ok', store: 'ok' });
    });

    test('embedded: /readyz turns 503 naming the store when the objects folder goes, and 200 when it is back', async () => {
      const objects = path.join(f.dataDir, 'objects');
      fs.renameSync(objects, `${objects}.away`);
      try {
        const body = await readyzUntil(f.url, 503);
        assert.equal(body.store, 'unreachable');
        assert.equal(body.database, 'ok');
        assert.match(body.message ?? '', /store is not reachable/);
      } finally {
        fs.renameSync(`${objects}.away`, objects);
      }
      await readyzUntil(f.url, 200);
    });
  }

  test('draining: once shutdown starts /readyz answers 503 "draining" while /healthz still answers', async () => {
    const g = await startTestFerry();
    try {
      g.ferry.services.readiness.drain();
      const r = await readyz(g.url);
      assert.equal(r.status, 503);
      assert.equal(r.body.status, 'draining');
      assert.match(r.body.message ?? '', /shutting down/);
      assert.equal((await fetch(`${g.url}/healthz`)).status, 200);
    } finally {
      await g.close();
    }
    // close() itself drains first (this Ferry was never drained by hand).
    const h = await startTestFerry();
    await h.close();
    assert.equal((await h.ferry.services.readiness.check()).draining, true);
  });
});

describe('metrics', () => {
  let f: TestFerry;
  let creds: Creds;
  before(async () => {
    f = await startTestFerry();
    const { appId } = await f.createApp('metrics');
    creds = { appId, token: await f.token(appId, '1001') };
  });
  after(() => f.close());

  test('/metrics parses as Prometheus text, every name prefixed ferry_, process and event-loop metrics included', async () => {
    const res = await fetch(`${f.url}/metrics`);
    const { samples, types } = parsePrometheus(await res.text());
    assert.ok(samples.length > 20);
    for (const s of samples) assert.match(s.name, /^ferry_/, s.name);
    for (const name of ['ferry_process_cpu_user_seconds_total', 'ferry_process_resident_memory_bytes', 'ferry_nodejs_eventloop_lag_seconds', 'ferry_media_queue_waiting', 'ferry_media_queue_running']) {
      assert.ok(samples.some((s) => s.name === name), `${name} is exported`);
    }
    assert.equal(types.get('ferry_http_request_duration_seconds'), 'histogram');
  });

  test('an upload and downloads move the counters by exactly their amounts, labelled by route template', async () => {
    const before = await scrape(f.url);
    const bytes = Buffer.from('metered bytes\n'.repeat(300));
    const slot = await chatSlot(f.url, creds, { file_type: 100, to_id: '1002', to_type: 1 });
    assert.equal((await postMultipart(slot.upload_url, bytes, { filename: 'm.txt' })).body.code, 200);
    // Streamed twice (the mini-program path never redirects), redirected once, then a 304 and a refusal.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(withCreds(slot.download_url, creds, '&source=miniprogram'));
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    }
    const redirect = await fetch(withCreds(slot.download_url, creds), { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    const etag = redirect.headers.get('etag')!;
    const notModified = await fetch(withCreds(slot.download_url, creds, '&source=miniprogram'), { headers: { 'if-none-match': etag } });
    assert.equal(notModified.status, 304);
    const refused = await (await fetch(withCreds(`${f.url}/file/download/chat?file_sign=not-a-sign`, creds))).json();
    assert.equal((refused as { code: number }).code, 60001);
    const after = await scrape(f.url);

    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    assert.equal(delta('ferry_upload_files_total', { file_type: '100' }), 1);
    assert.equal(delta('ferry_upload_bytes_total', { file_type: '100' }), bytes.length);
    assert.equal(delta('ferry_downloads_total', { endpoint: 'chat', outcome: 'bytes' }), 2);
    assert.equal(delta('ferry_downloads_total', { endpoint: 'chat', outcome: 'redirect' }), 1);
    assert.equal(delta('ferry_downloads_total', { endpoint: 'chat', outcome: 'not_modified' }), 1);
    assert.equal(delta('ferry_downloads_total', { endpoint: 'chat', outcome: 'refused' }), 1);
    assert.equal(delta('ferry_download_bytes_total', { endpoint: 'chat' }), 2 * bytes.length);
    assert.equal(delta('ferry_http_requests_total', { route: '/file/download/chat', method: 'GET', status: '2xx' }), 3, 'two streams and the refusal (HTTP 200)');
    assert.equal(delta('ferry_http_requests_total', { route: '/file/download/chat', method: 'GET', status: '3xx' }), 2, 'the redirect and the 304');
    assert.equal(delta('ferry_http_requests_total', { route: '/file/slot/:slotId', method: 'POST', status: '2xx' }), 1);
    assert.equal(delta('ferry_http_request_duration_seconds_count', { route: '/file/slot/:slotId', method: 'POST' }), 1);

    const text = await (await fetch(`${f.url}/metrics`)).text();
    const slotId = slot.upload_url.split('/').pop()!;
    const sign = new URL(slot.download_url).searchParams.get('file_sign')!;
    for (const secret of [slotId, sign, creds.token!]) assert.ok(!text.includes(secret), 'no URL, slot or token in a label');
  });

  test('a thumbnail is made once and reused after; a refused one counts as failed', async () => {
    const sharp = (await import('sharp')).default;
    const png = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#3a6' } }).png().toBuffer();
    const slot = await chatSlot(f.url, creds, { file_type: 102, to_id: '1002', to_type: 1 });
    assert.equal((await putRaw(slot.upload_url, png)).body.code, 200);
    const before = await scrape(f.url);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(withCreds(slot.download_url, creds, '&image_type=2&source=miniprogram'));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      await res.arrayBuffer();
    }
    const notVoice = await (await fetch(withCreds(slot.download_url, creds, '&format=mp3'))).json();
    assert.equal((notVoice as { code: number }).code, 60010);
    const after = await scrape(f.url);
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    assert.equal(delta('ferry_derivatives_total', { kind: 'image', result: 'made' }), 1);
    assert.equal(delta('ferry_derivatives_total', { kind: 'image', result: 'reused' }), 2);
    assert.equal(delta('ferry_derivative_duration_seconds_count', { kind: 'image' }), 1);
  });

  test('a storage failure is counted by layer and kind', async () => {
    const before = await scrape(f.url);
    const slot = await chatSlot(f.url, creds, { file_type: 100, to_id: '1002', to_type: 1 });
    assert.equal((await putRaw(slot.upload_url, Buffer.from('soon gone'))).body.code, 200);
    const row = (await f.inspect.files()).find((r) => r.slot_id === slot.upload_url.split('/').pop());
    await f.inspect.deleteObject(row!.storage_key);
    const answer = await (await fetch(withCreds(slot.download_url, creds, '&source=miniprogram'))).json();
    assert.equal((answer as { code: number }).code, 10009);
    const after = await scrape(f.url);
    assert.equal(valueOf(after, 'ferry_storage_errors_total', { layer: 'store' }) - valueOf(before, 'ferry_storage_errors_total', { layer: 'store' }), 1);
    assert.equal(valueOf(after, 'ferry_downloads_total', { outcome: 'failed' }) - valueOf(before, 'ferry_downloads_total', { outcome: 'failed' }), 1);
  });

  test('FERRY_METRICS_TOKEN: no token or a wrong one is 401, the right bearer token reads the metrics', async () => {
    const g = await startTestFerry({ FERRY_METRICS_TOKEN: 'scrape-me-0123456789' });
    try {
      const none = await fetch(`${g.url}/metrics`);
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await fetch(`${g.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      assert.equal((await fetch(`${g.url}/metrics`, { headers: { authorization: 'Basic scrape-me-0123456789' } })).status, 401);
      const samples = await scrape(g.url, { authorization: 'Bearer scrape-me-0123456789' });
      assert.ok(samples.some((s) => s.name === 'ferry_http_requests_total'), 'the refused scrapes were counted');
      // Health stays open: load balancers carry no token.
      assert.equal((await fetch(`${g.url}/readyz`)).status, 200);
    } finally {
      await g.close();
    }
  });
});

describe('logs', () => {
  test('at debug, after requests carrying every kind of credential, no credential is in any log line', async () => {
    const log = logCapture();
    const f = await startTestFerry({ FERRY_LOG_LEVEL: 'debug' }, { logStream: log.stream });
    try {
      const { appId, secret } = await f.createApp('secrets');
      const token = await f.token(appId, '1001');
      const creds = { appId, token };
      const slot = await chatSlot(f.url, creds, { file_type: 100, to_id: '1002', to_type: 1 });
      const slotId = slot.upload_url.split('/').pop()!;
      assert.equal((await postMultipart(slot.upload_url, Buffer.from('secret-free log'), { filename: 'a.txt' })).body.code, 200);
      const sign = new URL(slot.download_url).searchParams.get('file_sign')!;
      // The token in the query and in a header, the sign in the query, a redirect to a blob capability.
      const redirect = await fetch(withCreds(slot.download_url, creds), { redirect: 'manual' });
      const location = redirect.headers.get('location')!;
      const capability = location.split('/file/blob/')[1]!.split('/')[0]!;
      assert.equal((await fetch(location)).status, 200);
      await fetch(slot.download_url, { headers: { app_id: appId, 'access-token': token } });
      await fetch(`${f.url}/file/upload/forward?app_id=${appId}&access-token=${token}&file_sign=${sign}&to_id=1003`);
      // Refusals log too: a wrong token, a used slot, a wrong admin key, a bad sign.
      await fetch(`${f.url}/file/upload/chat?app_id=${appId}&access-token=${token}x&file_type=100&to_id=2`);
      await putRaw(slot.upload_url, Buffer.from('again'));
      await fetch(`${f.url}/admin/apps`, { method: 'POST', headers: { 'x-admin-key': `${f.adminKey}-wrong` } });
      await fetch(`${f.url}/file/download/chat?file_sign=${sign}x&access-token=${token}&app_id=${appId}`);
      // A link: its capability is a credential as well.
      const link = await f.admin('POST', `/admin/apps/${appId}/links`, { url: slot.download_url, ttl_s: 60 });
      const linkCap = String(link.body.url).split('/file/blob/')[1]!.split('/')[0]!;

      const text = log.text();
      assert.ok(text.length > 0 && log.lines().some((l) => l.msg === 'incoming request'), 'fastify logs every request at debug');
      const signKey = (await f.ferry.services.meta.getApp(appId))!.signKey;
      const secrets = { token, sign, slotId, adminKey: f.adminKey, secret, signKey, capability, linkCap };
      for (const [what, value] of Object.entries(secrets)) assert.ok(!text.includes(value), `the ${what} is not in the log`);
      assert.ok(text.includes('[redacted]'), 'URLs are logged with their credentials replaced');
      // Ajv's notice about the option app.ts sets on purpose lands in Ferry's log at debug, not on the console.
      assert.ok(log.lines().some((l) => l.level === 20 && /^ajv: DEPRECATED: option unicode/.test(String(l.msg))), 'ajv speaks through Ferry\'s log');
      assert.ok(text.includes('/file/slot/[redacted]'));
    } finally {
      await f.close();
    }
  });

  test('one access line per request at info (route template, status, bytes, ms, request id, app, user); FERRY_ACCESS_LOG=false turns it off', async () => {
    const log = logCapture();
    const f = await startTestFerry({ FERRY_LOG_LEVEL: 'info' }, { logStream: log.stream });
    try {
      const { appId } = await f.createApp('access');
      const creds = { appId, token: await f.token(appId, '1001') };
      const slot = await chatSlot(f.url, creds, { file_type: 100, to_id: '1002', to_type: 1 });
      const bytes = Buffer.from('access line');
      await putRaw(slot.upload_url, bytes);
      const res = await fetch(withCreds(slot.download_url, creds, '&source=miniprogram'), { headers: { 'x-request-id': 'trace-42.abc' } });
      assert.equal(res.headers.get('x-request-id'), 'trace-42.abc');
      await res.arrayBuffer();
      await fetch(`${f.url}/readyz`);
      const access = log.lines().filter((l) => l.msg === 'request');
      const download = access.find((l) => l.requestId === 'trace-42.abc');
      assert.ok(download, 'the download has an access line with the caller\'s request id');
      assert.equal(download.route, '/file/download/chat');
      assert.equal(download.method, 'GET');
      assert.equal(download.status, 200);
      assert.equal(download.bytes, bytes.length);
      assert.equal(typeof download.ms, 'number');
      assert.equal(download.app, appId);
      assert.equal(download.user, '1001');
      assert.equal(download.level, 30, 'info');
      assert.ok(access.some((l) => l.route === '/file/slot/:slotId' && l.method === 'PUT' && l.status === 200), `the upload has one: ${JSON.stringify(access)}`);
      assert.ok(access.some((l) => l.route === '/admin/apps/:app_id/tokens' && l.app === appId), 'admin calls name their app');
      assert.ok(!access.some((l) => l.route === '/readyz'), 'health polls stay out of the access log');
      assert.equal(log.lines().filter((l) => l.msg === 'incoming request').length, 0, 'fastify\'s own request lines only at debug');
    } finally {
      await f.close();
    }

    const quiet = logCapture();
    const g = await startTestFerry({ FERRY_LOG_LEVEL: 'info', FERRY_ACCESS_LOG: 'false' }, { logStream: quiet.stream });
    try {
      await g.createApp('quiet');
      await fetch(`${g.url}/file/upload/chat`);
      assert.equal(quiet.lines().filter((l) => l.msg === 'request').length, 0);
    } finally {
      await g.close();
    }
  });

  test('X-Request-Id: a sane one is echoed; an over-long one or one with control characters is replaced by a new random id', async () => {
    const log = logCapture();
    const f = await startTestFerry({ FERRY_LOG_LEVEL: 'info' }, { logStream: log.stream });
    try {
      const idOf = async (headers: Record<string, string> = {}) => (await fetch(`${f.url}/healthz`, { headers })).headers.get('x-request-id')!;
      const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
      const a = await idOf();
      const b = await idOf();
      assert.match(a, UUID);
      assert.notEqual(a, b, 'a new id per request, never req-1 on every node');
      assert.equal(await idOf({ 'x-request-id': 'lb-7f3a' }), 'lb-7f3a');
      const long = 'x'.repeat(129);
      assert.match(await idOf({ 'x-request-id': long }), UUID);
      assert.match(await idOf({ 'x-request-id': 'evil\tforged line' }), UUID);
      assert.match(await idOf({ 'x-request-id': 'with space' }), UUID);
      const res = await fetch(`${f.url}/file/upload/chat`, { headers: { 'x-request-id': long } });
      assert.match(res.headers.get('x-request-id')!, UUID);
      assert.ok(!log.text().includes(long), 'the refused id is not logged');
    } finally {
      await f.close();
    }
  });
});

describe('API documentation', () => {
  let f: TestFerry;
  before(async () => {
    f = await startTestFerry();
  });
  after(() => f.close());

  /** Every route Ferry serves (HEAD rides along with GET on the download routes). */
  const ROUTES = [
    'get /file/upload/chat',
    'get /file/upload/avatar/user',
    'get /file/upload/avatar/group',
    'post /file/slot/{slotId}',
    'put /file/slot/{slotId}',
    'get /file/download/chat',
    'get /file/download/avatar',
    'get /file/blob/{capability}/{name}',
    'get /file/upload/forward',
    'post /group/file/upload',
    'get /group/file/list',
    'get /group/file',
    'post /group/file/delete',
    'delete /group/file/delete',
    'post /group/file/update_name',
    'put /group/file/update_name',
    'post /admin/apps',
    'get /admin/apps',
    'post /admin/apps/{app_id}/tokens',
    'put /admin/apps/{app_id}/groups/{group_id}',
    'delete /admin/apps/{app_id}/groups/{group_id}',
    'patch /admin/apps/{app_id}/groups/{group_id}',
    'put /admin/apps/{app_id}/groups/{group_id}/members/{user_id}',
    'delete /admin/apps/{app_id}/groups/{group_id}/members/{user_id}',
    'put /admin/apps/{app_id}/groups/{group_id}/members',
    'get /admin/apps/{app_id}/groups/{group_id}/members',
    'post /admin/apps/{app_id}/links',
    'get /admin/apps/{app_id}/files',
    'post /admin/apps/{app_id}/files/delete',
    'post /admin/apps/{app_id}/files/quarantine',
    'post /admin/apps/{app_id}/files/release',
    'delete /admin/apps/{app_id}/users/{user_id}/files',
    'get /admin/apps/{app_id}',
    'patch /admin/apps/{app_id}',
    'get /admin/apps/{app_id}/usage',
    'get /admin/apps/{app_id}/audit',
    'post /admin/apps/{app_id}/secret/rotate',
    'post /admin/apps/{app_id}/tokens/revoke',
    'get /admin/apps/{app_id}/groups',
    'post /hooks/events',
    'get /healthz',
    'get /readyz',
    'get /metrics',
    'get /openapi.json',
    'get /docs',
    'get /console',
    'get /console/',
    'get /console/{name}',
  ];

  test('/openapi.json is an OpenAPI 3 document listing every route, with every Lanying parameter described', async () => {
    const res = await fetch(`${f.url}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { title: string; version: string; 'x-error-codes': Array<{ code: number }> };
      paths: Record<string, Record<string, { tags?: string[]; responses?: Record<string, unknown>; parameters?: Array<{ name: string; in: string; description?: string }> }>>;
    };
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    assert.ok(doc.info.title && doc.info.version);
    const listed = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).filter((m) => m !== 'head').map((m) => `${m} ${p}`));
    for (const r of ROUTES) assert.ok(listed.includes(r), `${r} is listed`);
    for (const r of listed) assert.ok(ROUTES.includes(r), `${r} is a known route (add it to ROUTES)`);
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        assert.ok(op.responses && Object.keys(op.responses).length > 0, `${m} ${p} has responses`);
        assert.ok(op.tags && op.tags.length > 0, `${m} ${p} has a tag`);
      }
    }
    const params = (p: string) => doc.paths[p]!.get!.parameters ?? [];
    const expect: Record<string, string[]> = {
      '/file/upload/chat': ['app_id', 'access-token', 'user_id', 'group_id', 'file_type', 'to_id', 'to_type'],
      '/file/upload/avatar/user': ['app_id', 'access-token'],
      '/file/upload/avatar/group': ['app_id', 'access-token', 'group_id'],
      '/file/upload/forward': ['app_id', 'access-token', 'file_sign', 'to_id', 'to_type'],
      '/file/download/chat': ['app_id', 'access-token', 'file_sign', 'image_type', 'w', 'h', 'format', 'thumbnail_strategy', 'source'],
      '/file/download/avatar': ['app_id', 'access-token', 'object_name', 'image_type', 'w', 'h', 'format'],
    };
    for (const [p, names] of Object.entries(expect)) {
      for (const name of names) {
        const q = params(p).find((x) => x.name === name && x.in === 'query');
        assert.ok(q, `${p} lists ${name}`);
        assert.ok((q.description ?? '').length > 10, `${p} ${name} says what it means`);
      }
    }
    // Every $ref points inside the document.
    const text = JSON.stringify(doc);
    for (const m of text.matchAll(/"\$ref":"#\/([^"]+)"/g)) {
      let node: unknown = doc;
      for (const part of m[1]!.split('/')) node = (node as Record<string, unknown>)[part];
      assert.ok(node, `$ref #/${m[1]} resolves`);
    }
    const codes = doc.info['x-error-codes'].map((c) => c.code);
    for (const c of [10002, 10008, 10009, 60003, 60014, 60030]) assert.ok(codes.includes(c), `error code ${c} is listed`);
  });

  test('/docs is one readable HTML page that loads nothing from elsewhere', async () => {
    const res = await fetch(`${f.url}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await res.text();
    for (const p of ['/file/upload/chat', '/file/download/chat', '/file/slot/{slotId}', '/admin/apps', '/readyz', 'thumbnail_strategy', '60003', 'Lanying']) {
      assert.ok(html.includes(p), `the page mentions ${p}`);
    }
    assert.doesNotMatch(html, /<script/i, 'no script');
    assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i, 'no outside resource or link');
    assert.doesNotMatch(html, /url\(|@import/i, 'no stylesheet import');
  });
});
