// Receiving uploads at upload_url, the way each real client sends them: the web SDK's multipart
// POST (with and without the five OSS fields), Android's raw PUT, a browser's CORS preflight.
// Every refusal is checked against the real stores (test/helpers/inspect.ts: SQLite and the
// data folder, or PostgreSQL and the bucket): nothing half-written may appear as an object,
// nothing may stay staged (<data>/objects/.tmp, open multipart uploads), no record may become ready, and
// the slot (except after success) stays usable.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import sharp from 'sharp';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { inspectFerry, type FileRow, type Inspector } from '../helpers/inspect.ts';
import { api, chatSlot, getJson, postMultipart, putRaw, withCreds, type Creds, type Envelope, type Slot } from '../helpers/client.ts';
import { eventually } from '../helpers/eventually.ts';
import { capabilityFileId, reminted, withCapability } from '../helpers/capability.ts';

// ---- real small media, made the way the brief's clients would produce them ----

const amr = (bodyBytes = 200) => Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(bodyBytes, 0x3c)]);
/** An MP3 that starts with an ID3v2 tag (what most encoders write first). */
const mp3WithId3 = () => Buffer.concat([Buffer.from('ID3'), Buffer.from([4, 0, 0, 0, 0, 0, 0]), Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(413)]);
/** An MP3 that starts straight with an MPEG-1 Layer III frame header. */
const mp3Frame = () => Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(413), Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(413)]);
/** An MP4: ftyp box (isom) followed by a free box. */
const mp4 = () =>
  Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2'), Buffer.from([0, 0, 0, 8]), Buffer.from('free')]);
const png = () => sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toBuffer();
const jpeg = () => sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 20, g: 90, b: 200 } } }).jpeg().toBuffer();
const html = () => Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n');

// ---- looking at the real storage (SQLite + data folder, or PostgreSQL + bucket) ----

const inspectors = new Map<TestFerry, Inspector>();

/** The stores of this Ferry, whichever mode it runs in; closed by closeFerry(). */
function stores(f: TestFerry): Inspector {
  let i = inspectors.get(f);
  if (!i) {
    inspectors.set(f, (i = inspectFerry(f)));
  }
  return i;
}

async function closeFerry(f: TestFerry): Promise<void> {
  await inspectors.get(f)?.close();
  inspectors.delete(f);
  await f.close();
}

const slotIdOf = (slot: Slot) => slot.upload_url.split('/').pop()!;

async function rowOf(f: TestFerry, slot: Slot): Promise<FileRow> {
  const row = await stores(f).fileBySlot(slotIdOf(slot));
  assert.ok(row, 'the slot has a record');
  return row;
}

/** A chat slot is a capability (no record until its upload starts); avatar slots record a pending file. */
const isCapability = (slot: Slot) => slotIdOf(slot).includes('.');

/** The same slot's capability with another expiry, signed with the app's own key (as Ferry would). */
async function withExpiry(f: TestFerry, appId: string, slot: Slot, at: number): Promise<string> {
  const keys = (await f.ferry.services.apps.get(appId))!;
  return withCapability(slot.upload_url, reminted(keys, slotIdOf(slot), { expiresAt: at }));
}

/** Objects that no ready record accounts for (partial or orphaned bytes). */
async function strayObjects(f: TestFerry): Promise<string[]> {
  const ready = new Set((await stores(f).files()).filter((r) => r.status === 'ready').map((r) => r.storage_key));
  return (await stores(f).objectKeys()).filter((k) => !ready.has(k));
}


/** Nothing of a refused or broken upload is visible: no object, no staged bytes, no ready record. */
async function assertNothingStored(f: TestFerry, slot: Slot, creds: Creds): Promise<void> {
  await eventually(async () => {
    assert.deepEqual(await stores(f).stagedUploads(), [], 'no staged bytes left (tmp files or open multipart uploads)');
    if (isCapability(slot)) assert.equal(await stores(f).fileBySlot(slotIdOf(slot)), undefined, 'the claim is dropped: the slot is usable again');
    else assert.equal((await rowOf(f, slot)).status, 'pending', 'the slot is given back');
  });
  assert.deepEqual(await strayObjects(f), [], 'every stored object belongs to a ready record');
  if (!isCapability(slot)) {
    const row = await rowOf(f, slot);
    assert.equal(await stores(f).readObject(row.storage_key), null, 'no object stored for this slot');
    assert.equal(row.size, null);
    assert.equal(row.sha256, null);
  }
  const dl = await getJson(withCreds(slot.download_url, creds));
  assert.equal(dl.body.code, 60002, 'download says not uploaded yet');
}

async function assertDownloads(slot: Slot, creds: Creds, bytes: Buffer, contentType?: string): Promise<void> {
  const res = await fetch(withCreds(slot.download_url, creds));
  assert.equal(res.status, 200);
  if (contentType !== undefined) assert.equal(res.headers.get('content-type'), contentType);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
}

/** A request written by hand with node:http, for what fetch cannot do (no content-type, stalls, hang-ups). */
function rawRequest(url: string, opts: { method: string; headers?: Record<string, string | number>; body?: Buffer }): Promise<{ status: number; body: Envelope }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Multipart body by hand, so a test can send only the start of it. */
function multipartHead(boundary: string, filename: string): Buffer {
  return Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
}

/**
 * Start an upload, send `sendBytes` of a body that announces `totalBytes`, wait until the server
 * is staging it (a tmp file, or an open multipart upload in the bucket), then hang up.
 */
async function hangUpMidUpload(f: TestFerry, url: string, kind: 'put' | 'multipart', sendBytes: number, totalBytes: number): Promise<void> {
  const boundary = 'ferryboundary7MA4YWxkTrZu0gW';
  const head = kind === 'multipart' ? multipartHead(boundary, 'big.bin') : Buffer.alloc(0);
  const req = http.request(url, {
    method: kind === 'put' ? 'PUT' : 'POST',
    headers: {
      'content-type': kind === 'put' ? 'application/octet-stream' : `multipart/form-data; boundary=${boundary}`,
      'content-length': head.length + totalBytes + (kind === 'multipart' ? boundary.length + 8 : 0),
    },
  });
  const gone = new Promise<void>((resolve) => {
    req.on('error', () => resolve());
    req.on('close', () => resolve());
  });
  req.write(head);
  req.write(Buffer.alloc(sendBytes, 0x61));
  await eventually(async () => assert.ok((await stores(f).stagedUploads()).length > 0, 'the upload is being staged'));
  req.destroy();
  await gone;
}

describe('uploads with default limits', () => {
  let f: TestFerry;
  let creds: Creds;
  let appId: string;
  before(async () => {
    f = await startTestFerry();
    ({ appId } = await f.createApp('up'));
    creds = { appId, token: await f.token(appId, '1001') };
  });
  after(() => closeFerry(f));

  const slot = (file_type: number = 100) => chatSlot(f.url, creds, { file_type, to_id: '1002', to_type: 1 });

  test('multipart POST with only the file part: HTTP 200 {code:200,data:true}, stored atomically with size and SHA-256', async () => {
    const s = await slot();
    const bytes = Buffer.from('the quick brown fox\n'.repeat(5000));
    const up = await postMultipart(s.upload_url, bytes, { filename: 'fox.txt' });
    assert.equal(up.status, 200);
    assert.deepEqual(up.body, { code: 200, message: null, data: true });
    const row = await rowOf(f, s);
    assert.equal(row.status, 'ready');
    assert.equal(row.size, bytes.length);
    assert.equal(row.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(row.file_name, 'fox.txt');
    assert.deepEqual(await stores(f).readObject(row.storage_key), bytes);
    assert.deepEqual(await stores(f).stagedUploads(), []);
    await assertDownloads(s, creds, bytes);
  });

  for (const value of ['', 'undefined']) {
    test(`multipart POST with the five OSS fields set to ${JSON.stringify(value)} before the file is accepted`, async () => {
      const s = await slot();
      const bytes = Buffer.from(`oss fields ${JSON.stringify(value)}\n`);
      const fields = { OSSAccessKeyId: value, policy: value, signature: value, callback: value, key: value };
      const up = await postMultipart(s.upload_url, bytes, { fields, filename: 'oss.txt', headers: { app_id: appId, 'access-token': creds.token! } });
      assert.equal(up.status, 200);
      assert.deepEqual(up.body, { code: 200, message: null, data: true });
      await assertDownloads(s, creds, bytes);
    });
  }

  test('raw PUT with application/octet-stream and no credentials (Android)', async () => {
    const s = await slot();
    const bytes = Buffer.from('android put body\n'.repeat(300));
    const up = await putRaw(s.upload_url, bytes);
    assert.equal(up.status, 200);
    assert.deepEqual(up.body, { code: 200, message: null, data: true });
    assert.equal((await rowOf(f, s)).sha256, createHash('sha256').update(bytes).digest('hex'));
    await assertDownloads(s, creds, bytes);
  });

  // Files of a MiB and up (or of unknown length) are hashed on the hashing thread when Ferry has
  // more than one core, as here; src/primitives/sha256-thread.ts has the thread's own tests.
  test('big files sent with a length, in chunks of unknown total, and as multipart are recorded with their SHA-256', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 333);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const withLength = await slot();
    assert.equal((await putRaw(withLength.upload_url, bytes)).status, 200);
    const chunked = await slot();
    const sent = await new Promise<{ status: number; body: Envelope }>((resolve, reject) => {
      const req = http.request(chunked.upload_url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as Envelope }));
      });
      req.on('error', reject);
      for (let at = 0; at < bytes.length; at += 700_001) req.write(bytes.subarray(at, at + 700_001));
      req.end();
    });
    assert.deepEqual(sent, { status: 200, body: { code: 200, message: null, data: true } });
    const multipart = await slot();
    assert.equal((await postMultipart(multipart.upload_url, bytes, { filename: 'big.bin' })).status, 200);
    for (const s of [withLength, chunked, multipart]) {
      const row = await rowOf(f, s);
      assert.deepEqual([row.status, row.size, row.sha256], ['ready', bytes.length, sha256]);
      await assertDownloads(s, creds, bytes);
    }
    assert.deepEqual(await stores(f).stagedUploads(), []);
  });

  test('raw PUT without any content-type is the file itself', async () => {
    const s = await slot(101);
    const bytes = amr(3000);
    const up = await rawRequest(s.upload_url, { method: 'PUT', headers: { 'content-length': bytes.length }, body: bytes });
    assert.equal(up.status, 200);
    assert.deepEqual(up.body, { code: 200, message: null, data: true });
    await assertDownloads(s, creds, bytes, 'audio/amr');
  });

  test('a browser preflight for the upload POST with access-token and app_id headers is answered', async () => {
    const s = await slot();
    const res = await fetch(s.upload_url, {
      method: 'OPTIONS',
      headers: { origin: 'https://chat.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'access-token,app_id' },
    });
    assert.ok(res.status >= 200 && res.status < 300, `preflight status ${res.status}`);
    assert.ok(['*', 'https://chat.example.com'].includes(res.headers.get('access-control-allow-origin') ?? ''));
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    assert.ok(allowed.includes('access-token') && allowed.includes('app_id'), `allowed headers: ${allowed.join(',')}`);
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
    // ...and the real POST from that origin carries the CORS answer too.
    const up = await fetch(s.upload_url, {
      method: 'POST',
      body: (() => {
        const form = new FormData();
        form.append('file', new Blob([Buffer.from('cors')]), 'cors.txt');
        return form;
      })(),
      headers: { origin: 'https://chat.example.com', app_id: appId, 'access-token': creds.token! },
    });
    assert.equal(up.status, 200);
    assert.ok(up.headers.get('access-control-allow-origin'));
    assert.deepEqual(await up.json(), { code: 200, message: null, data: true });
  });

  test('a multipart body without a "file" part is refused with 60008 and the slot stays usable', async () => {
    const s = await slot();
    const onlyFields = new FormData();
    onlyFields.append('key', 'undefined');
    onlyFields.append('policy', '');
    const res = await fetch(s.upload_url, { method: 'POST', body: onlyFields });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Envelope;
    assert.equal(body.code, 60008);
    assert.equal(body.data, null);
    assert.ok(body.message);
    // a file under another part name is not the file either
    const wrongName = await postMultipart(s.upload_url, Buffer.from('x'), { partName: 'upload' });
    assert.equal(wrongName.body.code, 60008);
    await assertNothingStored(f, s, creds);
    const bytes = Buffer.from('finally the file\n');
    assert.equal((await postMultipart(s.upload_url, bytes)).body.code, 200);
    await assertDownloads(s, creds, bytes);
  });

  for (const [what, contentType, body] of [
    ['no boundary', 'multipart/form-data', 'hello'],
    ['a body that is not multipart', 'multipart/form-data; boundary=xyz', 'hello world'],
    ['a part header that never ends', 'multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="policy"'],
  ] as const) {
    test(`a malformed multipart body (${what}) is refused with 10002, not as an internal error`, async () => {
      const s = await slot();
      const up = await rawRequest(s.upload_url, { method: 'POST', headers: { 'content-type': contentType }, body: Buffer.from(body) });
      assert.equal(up.status, 200);
      assert.equal(up.body.code, 10002);
      assert.match(up.body.message ?? '', /multipart/);
      await assertNothingStored(f, s, creds);
    });
  }

  test('a multipart body cut off inside the file part is refused with 60012 and nothing is stored', async () => {
    const s = await slot();
    const body = Buffer.concat([multipartHead('xyz', 'cut.txt'), Buffer.from('the file never ends')]);
    const up = await rawRequest(s.upload_url, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, body });
    assert.equal(up.status, 200);
    assert.equal(up.body.code, 60012);
    await assertNothingStored(f, s, creds);
  });

  test('a raw body with any other content-type (JSON, text, form, chunked) is stored as the file, byte for byte', async () => {
    for (const [contentType, text] of [
      ['application/json', '{"not":"parsed"}'],
      ['text/plain', 'plain text'],
      ['application/x-www-form-urlencoded', 'a=1&b=2'],
    ]) {
      const s = await slot();
      const bytes = Buffer.from(text!);
      const up = await rawRequest(s.upload_url, { method: 'PUT', headers: { 'content-type': contentType! }, body: bytes });
      assert.deepEqual(up.body, { code: 200, message: null, data: true }, contentType);
      await assertDownloads(s, creds, bytes);
    }
    const s = await slot();
    const bytes = Buffer.from('sent without a length\n'.repeat(2000));
    const up = await rawRequest(s.upload_url, { method: 'PUT', headers: { 'transfer-encoding': 'chunked' }, body: bytes });
    assert.deepEqual(up.body, { code: 200, message: null, data: true });
    await assertDownloads(s, creds, bytes);
  });

  test("an RFC 5987 filename*=UTF-8'' in the file part is kept as the file's name", async () => {
    const s = await slot();
    const body = Buffer.from(`--xyz\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8''%E8%AF%AD%E9%9F%B3.txt\r\n\r\nabc\r\n--xyz--\r\n`);
    const up = await rawRequest(s.upload_url, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, body });
    assert.deepEqual(up.body, { code: 200, message: null, data: true });
    assert.equal((await rowOf(f, s)).file_name, '语音.txt');
  });

  test('an empty file is refused with 60008', async () => {
    const s = await slot();
    const up = await postMultipart(s.upload_url, Buffer.alloc(0));
    assert.equal(up.status, 200);
    assert.equal(up.body.code, 60008);
    await assertNothingStored(f, s, creds);
  });

  test('two file parts are refused with 60009 and neither is stored', async () => {
    const s = await slot();
    const up = await postMultipart(s.upload_url, Buffer.from('one of two\n'.repeat(1000)), { extraFiles: 1 });
    assert.equal(up.status, 200);
    assert.equal(up.body.code, 60009);
    assert.equal(up.body.data, null);
    await assertNothingStored(f, s, creds);
  });

  test('a slot is single-use: the second upload gets 60006 and the first file is untouched', async () => {
    const s = await slot();
    const first = Buffer.from('first and only\n');
    assert.equal((await postMultipart(s.upload_url, first)).body.code, 200);
    const again = await postMultipart(s.upload_url, Buffer.from('second try\n'));
    assert.equal(again.status, 200);
    assert.equal(again.body.code, 60006);
    const put = await putRaw(s.upload_url, Buffer.from('second try by PUT\n'));
    assert.equal(put.body.code, 60006);
    await assertDownloads(s, creds, first);
  });

  test('while an upload streams: no object exists yet, the download says 60002, a second upload to the slot gets 60007; then it appears whole', async () => {
    const s = await slot();
    const bytes = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 13 + 1) % 256));
    const req = http.request(s.upload_url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': bytes.length } });
    const answer = new Promise<{ status: number; body: Envelope }>((resolve, reject) => {
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as Envelope }));
      });
      req.on('error', reject);
    });
    req.write(bytes.subarray(0, 1024 * 1024));
    await eventually(async () => assert.equal((await rowOf(f, s)).status, 'uploading'));

    const row = await rowOf(f, s);
    assert.equal(await stores(f).readObject(row.storage_key), null, 'no object before the last byte');
    assert.equal((await getJson(withCreds(s.download_url, creds))).body.code, 60002);
    const second = await postMultipart(s.upload_url, Buffer.from('me too'));
    assert.equal(second.status, 200);
    assert.equal(second.body.code, 60007);

    req.end(bytes.subarray(1024 * 1024));
    assert.deepEqual((await answer).body, { code: 200, message: null, data: true });
    assert.equal((await rowOf(f, s)).status, 'ready');
    await assertDownloads(s, creds, bytes);
    assert.equal((await postMultipart(s.upload_url, Buffer.from('late'))).body.code, 60006);
  });

  test('an expired slot is refused with 60005 and nothing is stored', async () => {
    const s = await slot();
    const up = await postMultipart(await withExpiry(f, appId, s, Date.now() - 1000), Buffer.from('too late\n'));
    assert.equal(up.status, 200);
    assert.equal(up.body.code, 60005);
    assert.equal(up.body.message, 'upload slot has expired: ask for a new one');
    const fileId = capabilityFileId(slotIdOf(s));
    assert.ok(!(await stores(f).files()).some((r) => r.id === fileId), 'no record written');
    assert.deepEqual(await stores(f).stagedUploads(), []);
    assert.equal((await getJson(withCreds(s.download_url, creds))).body.code, 60002);
  });

  test('an unknown or malformed slot id is refused with 60005', async () => {
    const s = await slot();
    const base = s.upload_url.slice(0, s.upload_url.lastIndexOf('/') + 1);
    for (const id of ['AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'short', '..%2F..%2Fetc']) {
      const up = await postMultipart(base + id, Buffer.from('x'));
      assert.equal(up.status, 200, id);
      assert.equal(up.body.code, 60005, id);
    }
  });

  describe('content is checked by its leading bytes', () => {
    const cases: { name: string; fileType: number; bytes: () => Buffer | Promise<Buffer>; type: string }[] = [
      { name: 'AMR as 101', fileType: 101, bytes: () => amr(), type: 'audio/amr' },
      { name: 'PNG as 102', fileType: 102, bytes: png, type: 'image/png' },
      { name: 'JPEG as 102', fileType: 102, bytes: jpeg, type: 'image/jpeg' },
      { name: 'MP4 as 103', fileType: 103, bytes: mp4, type: 'video/mp4' },
      { name: 'MP3 with an ID3 tag as 104', fileType: 104, bytes: mp3WithId3, type: 'audio/mpeg' },
      { name: 'MP3 starting with a 0xFF 0xFB frame as 104', fileType: 104, bytes: mp3Frame, type: 'audio/mpeg' },
      { name: 'AMR as shared voice 201', fileType: 201, bytes: () => amr(), type: 'audio/amr' },
    ];
    for (const c of cases) {
      test(`accepted: ${c.name}, served as ${c.type}`, async () => {
        const s = c.fileType >= 200 ? await groupSlot(c.fileType) : await slot(c.fileType);
        const bytes = await c.bytes();
        const up = await postMultipart(s.upload_url, bytes);
        assert.deepEqual(up.body, { code: 200, message: null, data: true });
        assert.equal((await rowOf(f, s)).content_type, c.type);
        await assertDownloads(s, creds, bytes, c.type);
      });
    }

    const wrong: { name: string; fileType: number; bytes: () => Buffer | Promise<Buffer> }[] = [
      { name: 'MP3 as AMR voice 101', fileType: 101, bytes: mp3Frame },
      { name: 'text as AMR voice 101', fileType: 101, bytes: () => Buffer.from('AMR?'.repeat(100)) },
      { name: 'HTML as image 102', fileType: 102, bytes: html },
      { name: 'SVG as image 102', fileType: 102, bytes: () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>') },
      { name: 'MP4 as image 102', fileType: 102, bytes: mp4 },
      { name: 'PNG as video 103', fileType: 103, bytes: png },
      { name: 'AMR as video 103', fileType: 103, bytes: () => amr() },
      { name: 'AMR as MP3 voice 104', fileType: 104, bytes: () => amr() },
      { name: 'JPEG as MP3 voice 104', fileType: 104, bytes: jpeg },
    ];
    for (const c of wrong) {
      test(`refused with 60004: ${c.name}; the slot stays usable`, async () => {
        const s = await slot(c.fileType);
        const up = await postMultipart(s.upload_url, await c.bytes());
        assert.equal(up.status, 200);
        assert.equal(up.body.code, 60004);
        assert.equal(up.body.data, null);
        assert.match(up.body.message ?? '', /file_type/);
        await assertNothingStored(f, s, creds);
      });
    }

    test('a PUT with the wrong magic bytes is refused the same way', async () => {
      const s = await slot(102);
      const up = await putRaw(s.upload_url, html());
      assert.equal(up.status, 200);
      assert.equal(up.body.code, 60004);
      await assertNothingStored(f, s, creds);
      const image = await png();
      assert.equal((await putRaw(s.upload_url, image)).body.code, 200);
      await assertDownloads(s, creds, image, 'image/png');
    });

    test('avatars must be images: an MP4 or HTML avatar is refused with 60004, a JPEG is accepted', async () => {
      const r = await api<Slot>(f.url, '/file/upload/avatar/user', {}, creds);
      assert.equal(r.body.code, 200);
      const s = r.body.data;
      for (const bad of [mp4(), html(), amr()]) {
        const up = await postMultipart(s.upload_url, bad);
        assert.equal(up.body.code, 60004);
      }
      assert.equal((await rowOf(f, s)).status, 'pending');
      assert.deepEqual(await stores(f).stagedUploads(), []);
      const image = await jpeg();
      assert.equal((await postMultipart(s.upload_url, image)).body.code, 200);
      const res = await fetch(`${s.download_url}&access-token=${creds.token}&app_id=${appId}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), image);
    });

    async function groupSlot(fileType: number): Promise<Slot> {
      await f.group(appId, '7001', '1001');
      return chatSlot(f.url, creds, { file_type: fileType, to_id: '7001', to_type: 2 });
    }
  });

  for (const kind of ['put', 'multipart'] as const) {
    test(`a client hanging up mid-upload (${kind}) leaves no partial file, no ready record, and the slot claimable again`, async () => {
      const s = await slot();
      await hangUpMidUpload(f, s.upload_url, kind, 12 * 1024 * 1024, 40 * 1024 * 1024);
      await assertNothingStored(f, s, creds);
      const bytes = Buffer.from('second attempt after the hang-up\n');
      const up = await postMultipart(s.upload_url, bytes);
      assert.deepEqual(up.body, { code: 200, message: null, data: true });
      await assertDownloads(s, creds, bytes);
    });
  }
});

describe('size limits are enforced while streaming', () => {
  let f: TestFerry;
  let creds: Creds;
  before(async () => {
    f = await startTestFerry({ FERRY_MAX_FILE_SIZE: '64K', FERRY_MAX_VOICE_SIZE: '16K' });
    const { appId } = await f.createApp('limits');
    creds = { appId, token: await f.token(appId, '1001') };
  });
  after(() => closeFerry(f));

  const slot = (file_type = 100) => chatSlot(f.url, creds, { file_type, to_id: '1002', to_type: 1 });
  /** Far more than the limit: if Ferry buffered before checking, this would all be read. */
  const huge = Buffer.alloc(24 * 1024 * 1024, 0x62);

  test('a multipart POST far over FERRY_MAX_FILE_SIZE=64K gets 60003, nothing is stored, the slot is reusable', async () => {
    const s = await slot();
    const up = await postMultipart(s.upload_url, huge);
    assert.equal(up.status, 200);
    assert.equal(up.body.code, 60003);
    assert.equal(up.body.data, null);
    await assertNothingStored(f, s, creds);
    const ok = Buffer.alloc(64 * 1024, 0x63);
    assert.deepEqual((await postMultipart(s.upload_url, ok)).body, { code: 200, message: null, data: true });
    await assertDownloads(s, creds, ok);
  });

  // The body is never completed, so a Ferry that checked the size only at the end would never
  // answer: the timeout is what fails then.
  test('the 60003 answer comes while the body is still streaming: a 1 GiB PUT is stopped mid-way', { timeout: 60_000 }, async () => {
    const s = await slot();
    const answer = await new Promise<{ status: number; body: Envelope; sent: number }>((resolve, reject) => {
      let sent = 0;
      const req = http.request(s.upload_url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': 1024 ** 3 } });
      const chunk = Buffer.alloc(256 * 1024, 0x65);
      let answered = false;
      const pump = () => {
        // Never finishes the body: only an answer given mid-stream can end this request.
        while (!answered && sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      req.on('response', (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as Envelope, sent });
        });
      });
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      pump();
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.code, 60003);
    await assertNothingStored(f, s, creds);
  });

  test('a raw PUT far over the limit gets 60003, nothing is stored, the slot is reusable', async () => {
    const s = await slot();
    const up = await putRaw(s.upload_url, huge);
    assert.equal(up.status, 200);
    assert.equal(up.body.code, 60003);
    await assertNothingStored(f, s, creds);
    const ok = Buffer.from('small enough\n');
    assert.equal((await putRaw(s.upload_url, ok)).body.code, 200);
    await assertDownloads(s, creds, ok);
  });

  test('limits are per file_type: 32 KiB of AMR passes as a chat file but not as voice (16K)', async () => {
    const voice = amr(32 * 1024);
    const asVoice = await slot(101);
    const up = await postMultipart(asVoice.upload_url, voice);
    assert.equal(up.body.code, 60003);
    await assertNothingStored(f, asVoice, creds);
    const asFile = await slot(100);
    assert.equal((await postMultipart(asFile.upload_url, voice)).body.code, 200);
    await assertDownloads(asFile, creds, voice);
  });

  test('one byte over the limit is refused, exactly the limit is accepted', async () => {
    const over = await slot();
    assert.equal((await putRaw(over.upload_url, Buffer.alloc(64 * 1024 + 1, 0x64))).body.code, 60003);
    await assertNothingStored(f, over, creds);
    const exact = await slot();
    assert.equal((await putRaw(exact.upload_url, Buffer.alloc(64 * 1024, 0x64))).body.code, 200);
  });
});
