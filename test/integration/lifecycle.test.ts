// Files that can be taken back: delete (one URL, every copy), quarantine and release, erasure of
// a user's files, and the operator's lookup. Each check looks into the store itself (the data
// folder or the bucket), not only at HTTP answers.
import { test, before, after } from 'node:test';
import http from 'node:http';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { api, chatSlot, getJson, postMultipart, putRaw, withCreds, type Creds, type Envelope } from '../helpers/client.ts';
import { signClaims, signOf, uploadChat } from '../helpers/jwt.ts';
import { plainImage } from '../helpers/media.ts';

let f: TestFerry;
let appId: string;
const t: Record<string, Creds> = {};

before(async () => {
  f = await startTestFerry();
  ({ appId } = await f.createApp('life'));
  for (const u of ['1', '2', '3', '4']) t[u] = { appId, token: await f.token(appId, u) };
  await f.createApp('other');
  t.other = { appId: 'other', token: await f.token('other', '1') };
});
after(() => f.close());

const unique = (label: string) => Buffer.from(`${label} ${Math.random()}\n`.repeat(40));

async function forward(creds: Creds, url: string, toId: string): Promise<string> {
  const r = await api<string>(f.url, '/file/upload/forward', { file_sign: signOf(url), to_id: toId, to_type: 1 }, creds);
  assert.equal(r.body.code, 200, JSON.stringify(r.body));
  return r.body.data;
}

async function codeOf(url: string, creds: Creds, extra = ''): Promise<number> {
  const res = await fetch(withCreds(url, creds, extra));
  if (res.headers.get('content-type')?.startsWith('application/json')) return ((await res.json()) as Envelope).code;
  await res.arrayBuffer();
  assert.equal(res.status, 200);
  return 200;
}

async function del(urls: unknown, allCopies?: boolean) {
  return f.admin('POST', `/admin/apps/${appId}/files/delete`, { urls, ...(allCopies === undefined ? {} : { all_copies: allCopies }) });
}

type Results = Array<{ url: string; result: string; copies?: number; bytes_removed?: boolean; error?: string }>;
const results = (r: { body: Record<string, unknown> }) => r.body.results as Results;

/**
 * A raw PUT of 256 KiB to the slot that sends its first 64 KiB and waits, once Ferry holds the
 * upload's claim; finish() sends the rest and gives the answer.
 */
async function startedUpload(slot: { upload_url: string; download_url: string }): Promise<{ finish(): Promise<Envelope> }> {
  const body = Buffer.alloc(256 * 1024, 'x');
  let rest: () => void = () => {};
  const answer = new Promise<Envelope>((resolve, reject) => {
    const req = http.request(new URL(slot.upload_url), { method: 'PUT', headers: { 'content-type': 'text/plain', 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(JSON.parse(text) as Envelope));
    });
    req.on('error', reject);
    req.write(body.subarray(0, 64 * 1024));
    rest = () => req.end(body.subarray(64 * 1024));
  });
  const fid = signClaims(slot.download_url).fid as string;
  for (let i = 0; !(await f.inspect.files()).some((x) => x.id === fid && x.status === 'uploading'); i++) {
    assert.ok(i < 200, 'the upload started');
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    finish: () => {
      rest();
      return answer;
    },
  };
}

/** The storage key of a chat file, read from the database (fid is the record's id). */
async function keyOf(url: string): Promise<string> {
  const fid = signClaims(url).fid as string;
  const row = (await f.inspect.files()).find((r) => r.id === fid);
  assert.ok(row, 'the file record exists');
  return row.storage_key;
}

test('deleting the original keeps its forwards and the bytes; deleting the last one removes the bytes', async () => {
  const original = await uploadChat(f.url, t['1']!, { to_id: '2' }, unique('forwarded'));
  const fwd = await forward(t['2']!, original, '3');
  assert.notEqual(signClaims(fwd).rid, undefined, 'a forward names a reference of its own');
  const key = await keyOf(original);
  assert.ok((await f.inspect.objectKeys()).includes(key));

  const first = results(await del([original]));
  assert.deepEqual(first, [{ url: original, result: 'deleted', copies: 1, bytes_removed: false }]);
  assert.equal(await codeOf(original, t['2']!), 60050, 'the deleted URL is refused');
  assert.equal(await codeOf(fwd, t['3']!), 200, 'the forward still works');
  assert.ok((await f.inspect.objectKeys()).includes(key), 'bytes stay while a reference is left');

  const again = results(await del([original]));
  assert.equal(again[0]!.result, 'already-deleted', 'deleting twice says so and changes nothing');

  const last = results(await del([fwd]));
  assert.deepEqual(last, [{ url: fwd, result: 'deleted', copies: 1, bytes_removed: true }]);
  assert.equal(await codeOf(fwd, t['3']!), 60050);
  assert.ok(!(await f.inspect.objectKeys()).includes(key), 'the bytes left the store with the last reference');
});

test('all_copies takes every forward, and the bytes, at once', async () => {
  const original = await uploadChat(f.url, t['1']!, { to_id: '2' }, unique('all copies'));
  const a = await forward(t['2']!, original, '3');
  const b = await forward(t['3']!, a, '4');
  const key = await keyOf(original);
  const r = results(await del([a], true));
  assert.deepEqual(r, [{ url: a, result: 'deleted', copies: 3, bytes_removed: true }]);
  for (const [url, who] of [[original, '2'], [a, '3'], [b, '4']] as const) assert.equal(await codeOf(url, t[who]!), 60050);
  assert.ok(!(await f.inspect.objectKeys()).includes(key));
  // A forward of a deleted URL is refused too.
  const fw = await api(f.url, '/file/upload/forward', { file_sign: signOf(b), to_id: '1', to_type: 1 }, t['4']!);
  assert.equal(fw.body.code, 60050);
});

test('a cached record and cached small bytes do not keep serving a deleted URL', async () => {
  const url = await uploadChat(f.url, t['1']!, { to_id: '2' }, Buffer.from('tiny and hot'));
  for (let i = 0; i < 3; i++) assert.equal(await codeOf(url, t['2']!), 200); // warms both caches
  await del([url]);
  assert.equal(await codeOf(url, t['2']!), 60050);
  assert.equal(await codeOf(url, t['2']!, '&image_type=1'), 60050);
});

test('thumbnails and covers of a deleted image are a placeholder image; the plain download keeps the envelope', async () => {
  const png = await plainImage('png', 300, 200);
  const slot = await chatSlot(f.url, t['1']!, { file_type: 102, to_id: '2' });
  assert.equal((await postMultipart(slot.upload_url, png, { filename: 'p.png' })).status, 200);
  const thumb = await fetch(withCreds(slot.download_url, t['2']!, '&image_type=2'));
  assert.equal(thumb.status, 200);
  await thumb.arrayBuffer();
  const fid = signClaims(slot.download_url).fid as string;
  const derived = (await f.inspect.objectKeys()).filter((k) => k.includes(fid));
  assert.ok(derived.length >= 2, `the original and its thumbnail are stored: ${derived.join(', ')}`);

  const lookup = await f.admin('GET', `/admin/apps/${appId}/files?url=${encodeURIComponent(slot.download_url)}`);
  assert.equal(lookup.status, 200);
  assert.equal((lookup.body.derivatives as unknown[]).length, 1, 'the lookup lists the thumbnail');

  await del([slot.download_url]);
  assert.deepEqual((await f.inspect.objectKeys()).filter((k) => k.includes(fid)), [], 'original and every derivative left the store');
  for (const imageType of ['2', '3']) {
    const res = await fetch(withCreds(slot.download_url, t['2']!, `&image_type=${imageType}`));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('x-ferry-code'), '60050');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    assert.equal(meta.format, 'png', 'an <img> gets an image it can show');
  }
  assert.equal(await codeOf(slot.download_url, t['2']!), 60050);
});

test('a download in flight when the delete lands finishes cleanly (never a 5xx)', async () => {
  const big = Buffer.alloc(8 * 1024 * 1024, 7);
  const url = await uploadChat(f.url, t['1']!, { to_id: '2' }, big);
  const res = await fetch(withCreds(url, t['2']!));
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const firstChunk = await reader.read();
  assert.ok(!firstChunk.done);
  const r = results(await del([url]));
  assert.equal(r[0]!.bytes_removed, true);
  let got = firstChunk.value.length;
  let cut = false;
  try {
    for (;;) {
      const c = await reader.read();
      if (c.done) break;
      got += c.value.length;
    }
  } catch {
    cut = true; // a clean cut: the client sees a short body, never a 5xx answer
  }
  assert.ok(cut || got === big.length, `either all bytes or a cut connection (${got} bytes)`);
  assert.equal(await codeOf(url, t['2']!), 60050, 'the next download is refused');
});

test('a URL deleted before its upload (a message recalled while the file is on its way): deleted now, the upload refused, nothing stored', async () => {
  const slot = await chatSlot(f.url, t['1']!, { file_type: 100, to_id: '2' });
  assert.equal(await codeOf(slot.download_url, t['2']!), 60002, 'not uploaded yet');
  const r = results(await del([slot.download_url]));
  assert.deepEqual(r, [{ url: slot.download_url, result: 'deleted', copies: 1, bytes_removed: false }]);
  assert.equal(await codeOf(slot.download_url, t['2']!), 60050, 'the URL is refused as deleted');
  const up = await putRaw(slot.upload_url, unique('too late'));
  assert.equal(up.body.code, 60050, JSON.stringify(up.body));
  assert.match(up.body.message ?? '', /deleted before its upload/);
  const fid = signClaims(slot.download_url).fid as string;
  assert.equal((await f.inspect.files()).find((x) => x.id === fid), undefined, 'no record was kept');
  assert.equal(results(await del([slot.download_url]))[0]!.result, 'already-deleted');
  const log = await f.admin('GET', `/admin/apps/${appId}/audit`);
  const entry = (log.body.entries as Array<{ action: string; detail: Record<string, unknown> | null }>).find((e) => e.action === 'file.delete' && e.detail?.file_id === fid);
  assert.equal(entry?.detail?.before_upload, true, 'the audit log says the URL went before its upload');
});

test('a URL deleted while its upload streams: the upload is answered 60050 and its bytes leave the store, usage back where it was', async () => {
  const slot = await chatSlot(f.url, t['1']!, { file_type: 100, to_id: '2' });
  const usageBefore = (await f.admin('GET', `/admin/apps/${appId}/usage`)).body as { bytes: number; files: number };
  const upload = await startedUpload(slot);
  assert.deepEqual(results(await del([slot.download_url])), [{ url: slot.download_url, result: 'deleted', copies: 1, bytes_removed: false }]);
  const env = await upload.finish();
  const fid = signClaims(slot.download_url).fid as string;
  assert.equal(env.code, 60050, JSON.stringify(env));
  const row = (await f.inspect.files()).find((x) => x.id === fid);
  assert.ok(row, 'the record stays, marked deleted');
  assert.equal(row.status, 'deleted');
  assert.ok(!(await f.inspect.objectKeys()).includes(row.storage_key), 'the bytes left the store');
  assert.equal(await codeOf(slot.download_url, t['2']!), 60050);
  const usageAfter = (await f.admin('GET', `/admin/apps/${appId}/usage`)).body as { bytes: number; files: number };
  assert.deepEqual([usageAfter.bytes, usageAfter.files], [usageBefore.bytes, usageBefore.files]);
});

test('the lookup names the record, its state and its other URLs', async () => {
  const bytes = unique('lookup');
  const original = await uploadChat(f.url, t['1']!, { to_id: '2' }, bytes);
  const fwd = await forward(t['2']!, original, '3');
  const r = await f.admin('GET', `/admin/apps/${appId}/files?url=${encodeURIComponent(fwd)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const b = r.body as Record<string, unknown>;
  assert.equal(b.size, bytes.length);
  assert.equal(b.sender, '2');
  assert.equal(b.uploader, '1');
  assert.deepEqual(b.conversation, { to_id: '3', to_type: 1 });
  assert.equal(b.state, 'live');
  assert.match(b.sha256 as string, /^[0-9a-f]{64}$/);
  const others = b.other_urls as Array<{ url: string; sender: string; state: string }>;
  assert.equal(others.length, 1);
  assert.equal(others[0]!.sender, '1');
  // The URL the lookup gives for the original opens it.
  assert.equal(await codeOf(others[0]!.url, t['2']!), 200);
  // The same reference always gets the same URL, also once the clock has moved to a new second.
  const second = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) === second) await new Promise((r) => setTimeout(r, 50));
  const again = (await f.admin('GET', `/admin/apps/${appId}/files?url=${encodeURIComponent(fwd)}`)).body as Record<string, unknown>;
  assert.equal(again.download_url, b.download_url);
  assert.deepEqual(again.other_urls, b.other_urls);
  await del([original]);
  const after = await f.admin('GET', `/admin/apps/${appId}/files?url=${encodeURIComponent(original)}`);
  assert.equal(after.body.state, 'deleted');

  const bad = await f.admin('GET', `/admin/apps/${appId}/files?url=nonsense`);
  assert.equal(bad.status, 404);
});

test('bad input: per-URL results, empty or oversized lists refused, other apps untouched', async () => {
  const mine = await uploadChat(f.url, t['1']!, { to_id: '2' }, unique('mine'));
  const theirs = await uploadChat(f.url, t.other!, { to_id: '2' }, unique('theirs'));
  const r = results(await del([theirs, 'http://x/file/download/chat?file_sign=a.b.c', 'not a url at all', 42, 'avatar-nobody', mine]));
  assert.deepEqual(
    r.map((x) => x.result),
    ['invalid', 'invalid', 'invalid', 'invalid', 'not-found', 'deleted'],
  );
  assert.equal(await codeOf(theirs, t.other!), 200, "another app's file is untouched");
  assert.equal((await del([])).status, 400);
  assert.equal((await del(Array.from({ length: 1001 }, () => 'x'))).status, 400);
  assert.equal((await del('x')).status, 400);
  assert.equal((await f.admin('POST', '/admin/apps/nope/files/delete', { urls: [mine] })).status, 404);
});

test('quarantine refuses every copy and the same bytes uploaded again; release restores them', async () => {
  const bytes = unique('moderated');
  const original = await uploadChat(f.url, t['1']!, { to_id: '2' }, bytes);
  const fwd = await forward(t['2']!, original, '3');
  const q = await f.admin('POST', `/admin/apps/${appId}/files/quarantine`, { urls: [fwd], reason: 'report #12' });
  assert.equal(q.status, 200);
  assert.equal(results(q)[0]!.result, 'quarantined');
  assert.equal(await codeOf(original, t['2']!), 60051);
  assert.equal(await codeOf(fwd, t['3']!), 60051);
  const key = await keyOf(original);
  assert.ok((await f.inspect.objectKeys()).includes(key), 'the bytes are kept for review');

  const before = (await f.inspect.objectKeys()).length;
  const slot = await chatSlot(f.url, t['4']!, { file_type: 100, to_id: '1' });
  const up = await postMultipart(slot.upload_url, bytes);
  assert.equal(up.body.code, 60051, 'the same bytes are refused at upload');
  assert.equal((await f.inspect.objectKeys()).length, before, 'nothing was stored');

  const again = await f.admin('POST', `/admin/apps/${appId}/files/quarantine`, { urls: [original], reason: 'x' });
  assert.equal(results(again)[0]!.result, 'already-quarantined');
  assert.equal((await f.admin('POST', `/admin/apps/${appId}/files/quarantine`, { urls: [original] })).status, 400, 'reason is required');

  const rel = await f.admin('POST', `/admin/apps/${appId}/files/release`, { urls: [original] });
  assert.equal(results(rel)[0]!.result, 'released');
  assert.equal(await codeOf(original, t['2']!), 200);
  assert.equal(await codeOf(fwd, t['3']!), 200);
  assert.equal((await postMultipart(slot.upload_url, bytes)).body.code, 200, 'the bytes may be uploaded again');
  const rel2 = await f.admin('POST', `/admin/apps/${appId}/files/release`, { urls: [original] });
  assert.equal(results(rel2)[0]!.result, 'not-quarantined', 'releasing what is not quarantined says so');
});

test("DELETE …/users/:user_id/files deletes everything that user sent, and only that", async () => {
  const u = { appId, token: await f.token(appId, '77') };
  const sent = [await uploadChat(f.url, u, { to_id: '1' }, unique('a')), await uploadChat(f.url, u, { to_id: '2' }, unique('b'))];
  const received = await uploadChat(f.url, t['1']!, { to_id: '77' }, unique('c'));
  const forwardedByUser = await forward(u, received, '2');
  // An upload of theirs still on its way is stopped too.
  const inFlight = await chatSlot(f.url, u, { file_type: 100, to_id: '1' });
  const upload = await startedUpload(inFlight);
  // And so is an upload the user has a slot for but has not started: after the erasure, that slot
  // would otherwise deliver a file the operator meant to be gone.
  const unused = await chatSlot(f.url, u, { file_type: 100, to_id: '1' });
  const otherUsers = await chatSlot(f.url, t['1']!, { file_type: 100, to_id: '77' });
  const r = await f.admin('DELETE', `/admin/apps/${appId}/users/77/files`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { deleted: 3, uploads_stopped: 1 });
  assert.equal((await upload.finish()).code, 60050, 'the upload under way is refused as it completes');
  assert.equal(await codeOf(inFlight.download_url, t['1']!), 60050);
  const row = (await f.inspect.files()).find((x) => x.id === signClaims(inFlight.download_url).fid);
  assert.ok(row && !(await f.inspect.objectKeys()).includes(row.storage_key), 'its bytes left the store');
  const late = await putRaw(unused.upload_url, unique('after the erasure'));
  assert.equal(late.body.code, 10008, JSON.stringify(late.body));
  assert.match(late.body.message ?? '', /handed out before the user's files were erased/);
  assert.notEqual(await codeOf(unused.download_url, t['1']!), 200, 'nothing was stored for it');
  assert.equal((await putRaw(otherUsers.upload_url, unique('from someone else'))).body.code, 200, "other users' slots are untouched");
  // The admin erasure leaves the user's tokens alone: a new slot takes an upload.
  const fresh = await chatSlot(f.url, u, { file_type: 100, to_id: '1' });
  assert.equal((await putRaw(fresh.upload_url, unique('a new file'))).body.code, 200, "the user's new slots work");
  assert.equal(await codeOf(fresh.download_url, t['1']!), 200);
  assert.equal(await codeOf(sent[0]!, t['1']!), 60050);
  assert.equal(await codeOf(sent[1]!, t['2']!), 60050);
  assert.equal(await codeOf(forwardedByUser, t['2']!), 60050);
  assert.equal(await codeOf(received, u), 200, 'what others sent to the user stays');
  assert.equal((await f.admin('DELETE', `/admin/apps/${appId}/users/abc/files`)).status, 400);

  const log = await f.admin('GET', `/admin/apps/${appId}/audit`);
  const entries = log.body.entries as Array<{ actor: string; action: string; target: string }>;
  assert.ok(entries.some((e) => e.action === 'user.erase' && e.target === '77' && e.actor === 'admin-key'));
  assert.ok(entries.some((e) => e.action === 'file.quarantine'));
});

test('an avatar can be deleted by its object_name', async () => {
  const avatar = await api<{ upload_url: string; download_url: string }>(f.url, '/file/upload/avatar/user', {}, t['1']!);
  const png = await plainImage('png', 64, 64);
  assert.equal((await postMultipart(avatar.body.data.upload_url, png, { filename: 'a.png' })).status, 200);
  const name = new URL(avatar.body.data.download_url).searchParams.get('object_name')!;
  const r = results(await del([name]));
  assert.equal(r[0]!.result, 'deleted');
  assert.equal(r[0]!.bytes_removed, true);
  const res = await getJson(withCreds(avatar.body.data.download_url, t['2']!));
  assert.equal(res.body.code, 60050);
});

test('a request may carry the full 1000 download_urls of ordinary length', async () => {
  const url = await uploadChat(f.url, t['1']!, { to_id: '2' }, unique('one of many'));
  const padded = Array.from({ length: 999 }, (_, i) => `${f.url}/file/download/chat?file_sign=${'x'.repeat(400)}${i}`);
  const r = await del([...padded, url]);
  assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
  const out = results(r);
  assert.equal(out.length, 1000);
  assert.equal(out[0]!.result, 'invalid');
  assert.equal(out[999]!.result, 'deleted');
});
