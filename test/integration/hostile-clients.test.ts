// Clients that would tie Ferry up, spoken to over raw sockets (node:net) so the test controls
// every byte and sees exactly what Ferry answers and when it closes: uploads that go silent or
// trickle (cut, nothing stored, the slot retried at once), one user piling up uploads, more
// connections than allowed, bodies far over the limit (answered and closed, not read to the
// end), and requests the HTTP parser rejects (answered with Connection: close).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import http from 'node:http';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { inspectFerry, type FileRow, type Inspector } from '../helpers/inspect.ts';
import { chatSlot, getJson, postMultipart, putRaw, withCreds, type Creds, type Envelope, type Slot } from '../helpers/client.ts';
import { eventually } from '../helpers/eventually.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- a raw HTTP/1.1 client ----

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Envelope;
}

/** One TCP connection; what Ferry sends is collected as it arrives. */
class RawConn {
  readonly socket: net.Socket;
  private received = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  /** bytes the kernel accepted from this client (write callbacks without error) */
  sent = 0;
  /** set once the connection is gone (closed or reset by Ferry) */
  closedAt: number | null = null;
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.received = Buffer.concat([this.received, c]);
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedAt = Date.now();
        this.wake();
        resolve();
      }),
    );
  }

  static open(url: string): Promise<RawConn> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(u.port), u.hostname, () => resolve(new RawConn(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves true once the kernel took the bytes, false when the connection is gone. */
  write(data: Buffer | string): Promise<boolean> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.socket.destroyed) return Promise.resolve(false);
    return new Promise((resolve) =>
      this.socket.write(buf, (err) => {
        if (!err) this.sent += buf.length;
        resolve(!err);
      }),
    );
  }

  /** The first complete answer on this connection; rejects when the connection ends without one. */
  async response(): Promise<RawResponse> {
    for (;;) {
      const parsed = parseResponse(this.received);
      if (parsed) return parsed;
      if (this.closedAt !== null) throw new Error(`connection closed without a complete answer (got ${JSON.stringify(this.received.toString('latin1').slice(0, 200))})`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  bytesReceived(): number {
    return this.received.length;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function parseResponse(buf: Buffer): RawResponse | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const length = Number(headers['content-length'] ?? NaN);
  assert.ok(Number.isInteger(length), `the answer has a Content-Length: ${statusLine}`);
  const body = buf.subarray(end + 4, end + 4 + length);
  if (body.length < length) return null;
  return { status: Number(statusLine!.split(' ')[1]), headers, body: JSON.parse(body.toString('utf8')) as Envelope };
}

// ---- uploads written by hand ----

const BOUNDARY = 'hostileBoundary8f3a';
const partHead = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
const partTail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

/**
 * Open a connection and send the head of an upload whose file announces fileBytes: the request
 * line and headers, and for multipart the part's header. The test sends the file itself.
 */
async function startUpload(uploadUrl: string, kind: 'put' | 'multipart', fileBytes: number): Promise<RawConn> {
  const u = new URL(uploadUrl);
  const multipart = kind === 'multipart';
  const length = fileBytes + (multipart ? partHead.length + partTail.length : 0);
  const conn = await RawConn.open(uploadUrl);
  await conn.write(
    `${multipart ? 'POST' : 'PUT'} ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\n` +
      `Content-Type: ${multipart ? `multipart/form-data; boundary=${BOUNDARY}` : 'application/octet-stream'}\r\n` +
      `Content-Length: ${length}\r\n\r\n`,
  );
  if (multipart) await conn.write(partHead);
  return conn;
}

/** Bytes that differ at every position. */
const content = (n: number, seed = 7) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 256));
const amrHead = Buffer.from('#!AMR\n');

// ---- what is stored ----

const slotIdOf = (slot: Slot) => slot.upload_url.split('/').pop()!;

async function rowOf(stores: Inspector, slot: Slot): Promise<FileRow> {
  const row = await stores.fileBySlot(slotIdOf(slot));
  assert.ok(row, 'the slot has a record');
  return row;
}

/** Files in the data folder's staging places: <data>/tmp (local disk) and <data>/s3-parts (S3 part spool). */
function scratchFiles(f: TestFerry): string[] {
  return ['tmp', 's3-parts'].flatMap((d) => {
    const dir = path.join(f.dataDir, d);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(d, path.relative(dir, path.join(e.parentPath, e.name))));
  });
}

/** Right after the answer (no waiting): nothing staged, no object, the slot's claim dropped (usable again). */
async function assertNothingStored(f: TestFerry, stores: Inspector, slot: Slot, creds: Creds): Promise<void> {
  assert.deepEqual(await stores.stagedUploads(), [], 'no staged bytes (tmp files or open multipart uploads)');
  assert.deepEqual(scratchFiles(f), [], 'no scratch files in the data folder');
  assert.equal(await stores.fileBySlot(slotIdOf(slot)), undefined, 'the claim is dropped: the slot is given back');
  const ready = new Set((await stores.files()).filter((r) => r.status === 'ready').map((r) => r.storage_key));
  assert.deepEqual((await stores.objectKeys()).filter((k) => !ready.has(k)), [], 'every object belongs to a ready record');
  assert.equal((await getJson(withCreds(slot.download_url, creds))).body.code, 60002);
}

async function retrySucceeds(stores: Inspector, slot: Slot, creds: Creds, kind: 'put' | 'multipart'): Promise<void> {
  const bytes = content(64 * KiB, 11);
  const up = kind === 'put' ? await putRaw(slot.upload_url, bytes) : await postMultipart(slot.upload_url, bytes);
  assert.deepEqual(up.body, { code: 200, message: null, data: true }, 'the same slot takes a new upload at once');
  assert.equal((await rowOf(stores, slot)).status, 'ready');
  const res = await fetch(withCreds(slot.download_url, creds));
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
}

// ---- silent and trickling uploads ----

const IDLE_MS = 1500;
const WINDOW_MS = 2500;
/** the watch looks a quarter of the shorter period apart (at most once a second) */
const TICK_MS = Math.min(1000, IDLE_MS / 4, WINDOW_MS / 4);
/** scheduling on a loaded 2-core machine */
const SLACK_MS = 1500;

describe('uploads that go silent or trickle are cut', () => {
  let f: TestFerry;
  let stores: Inspector;
  let creds: Creds;
  before(async () => {
    f = await startTestFerry({
      FERRY_UPLOAD_IDLE_TIMEOUT_MS: String(IDLE_MS),
      FERRY_UPLOAD_MIN_RATE: '1K',
      FERRY_UPLOAD_RATE_WINDOW_MS: String(WINDOW_MS),
    });
    stores = inspectFerry(f);
    const { appId } = await f.createApp('pace');
    creds = { appId, token: await f.token(appId, '1001') };
  });
  after(async () => {
    await stores.close();
    await f.close();
  });

  const slot = () => chatSlot(f.url, creds, { file_type: 100, to_id: '1002', to_type: 1 });

  for (const kind of ['put', 'multipart'] as const) {
    test(`a ${kind} upload that sends 9 MiB and goes silent is answered 60015 and closed after the idle timeout`, { timeout: 60_000 }, async () => {
      const s = await slot();
      const conn = await startUpload(s.upload_url, kind, 64 * MiB);
      // Over one S3 part: in scale-out mode a multipart upload is open in the bucket.
      await conn.write(content(9 * MiB));
      const lastByte = Date.now();
      await eventually(async () => assert.ok((await stores.stagedUploads()).length > 0, 'the upload is being staged'));
      const staged = Date.now();

      const answer = await conn.response();
      const cutAfter = Date.now() - lastByte;
      assert.equal(answer.status, 200);
      assert.equal(answer.body.code, 60015);
      assert.match(answer.body.message ?? '', /no data/);
      assert.equal(answer.headers.connection, 'close');
      assert.ok(cutAfter >= IDLE_MS - 100, `not cut before the idle timeout (${cutAfter} ms)`);
      assert.ok(Date.now() - staged <= IDLE_MS + TICK_MS + SLACK_MS, `cut within the idle timeout (${Date.now() - staged} ms after staging began)`);
      await conn.closed;

      await assertNothingStored(f, stores, s, creds);
      await retrySucceeds(stores, s, creds, kind);
    });

    test(`a ${kind} upload trickling 1 byte every 200 ms (never idle) is cut 60015 for its rate within the window`, { timeout: 60_000 }, async () => {
      const s = await slot();
      const conn = await startUpload(s.upload_url, kind, 1 * MiB);
      // A fast start (it must not buy the trickle more than one window), then 5 bytes/s.
      await conn.write(content(8 * KiB));
      const trickleFrom = Date.now();
      let trickling = true;
      const trickle = (async () => {
        while (trickling && (await conn.write('x'))) await pause(200);
      })();
      const answer = await conn.response();
      const cutAfter = Date.now() - trickleFrom;
      trickling = false;
      await trickle;
      assert.equal(answer.status, 200);
      assert.equal(answer.body.code, 60015);
      assert.match(answer.body.message ?? '', /too slow/);
      assert.equal(answer.headers.connection, 'close');
      assert.ok(cutAfter >= WINDOW_MS - 100, `judged over a whole window (${cutAfter} ms)`);
      // The average starts at a sample up to a tick older than the window, judged on the next tick.
      assert.ok(cutAfter <= WINDOW_MS + 2 * TICK_MS + SLACK_MS, `cut within the window (${cutAfter} ms)`);
      await conn.closed;

      await assertNothingStored(f, stores, s, creds);
      await retrySucceeds(stores, s, creds, kind);
    });
  }

  test('an upload that sends only its headers is cut the same way', { timeout: 60_000 }, async () => {
    const s = await slot();
    const conn = await startUpload(s.upload_url, 'put', 1 * MiB);
    const started = Date.now();
    const answer = await conn.response();
    assert.equal(answer.body.code, 60015);
    assert.ok(Date.now() - started <= IDLE_MS + TICK_MS + SLACK_MS);
    await conn.closed;
    await assertNothingStored(f, stores, s, creds);
    await retrySucceeds(stores, s, creds, 'put');
  });

  test('an upload as fast as the minimum rate or faster is not cut', { timeout: 60_000 }, async () => {
    const s = await slot();
    const bytes = content(16 * KiB);
    const conn = await startUpload(s.upload_url, 'put', bytes.length);
    // 4 KiB/s for 4 s: above 1 KiB/s and never idle, over more than one window. Small, frequent
    // writes keep every gap far below the idle time even when a loaded machine stalls the test.
    for (let off = 0; off < bytes.length; off += KiB / 2) {
      assert.ok(await conn.write(bytes.subarray(off, off + KiB / 2)), 'the connection is still open');
      await pause(125);
    }
    const answer = await conn.response();
    assert.deepEqual(answer.body, { code: 200, message: null, data: true });
    conn.destroy();
  });
});

// ---- one user, many uploads ----

describe('uploads in flight per user', () => {
  let f: TestFerry;
  let stores: Inspector;
  let alice: Creds;
  let bob: Creds;
  before(async () => {
    f = await startTestFerry({ FERRY_UPLOADS_PER_USER: '2' });
    stores = inspectFerry(f);
    const { appId } = await f.createApp('many');
    alice = { appId, token: await f.token(appId, '1001') };
    bob = { appId, token: await f.token(appId, '1003') };
  });
  after(async () => {
    await stores.close();
    await f.close();
  });

  test('past FERRY_UPLOADS_PER_USER=2 a third upload by the same user gets 60016; others are not affected; the slot works later', async () => {
    const slots = await Promise.all([1, 2, 3].map(() => chatSlot(f.url, alice, { file_type: 100, to_id: '1002', to_type: 1 })));
    const [s1, s2, s3] = slots as [Slot, Slot, Slot];
    const file = content(256 * KiB);
    const held = await Promise.all([s1, s2].map((s) => startUpload(s.upload_url, 'put', file.length)));
    for (const conn of held) await conn.write(file.subarray(0, 8 * KiB));
    await eventually(async () => {
      for (const s of [s1, s2]) assert.equal((await rowOf(stores, s)).status, 'uploading');
    });

    const third = await postMultipart(s3.upload_url, content(4 * KiB));
    assert.equal(third.status, 200);
    assert.equal(third.body.code, 60016);
    assert.match(third.body.message ?? '', /at most 2/);
    assert.equal(await stores.fileBySlot(slotIdOf(s3)), undefined, 'the refused slot is not left claimed');

    // Another user of the same app uploads as usual.
    const bobs = await chatSlot(f.url, bob, { file_type: 100, to_id: '1002', to_type: 1 });
    assert.equal((await postMultipart(bobs.upload_url, content(4 * KiB))).body.code, 200);

    // One of alice's uploads finishes: her next one goes through.
    await held[0]!.write(file.subarray(8 * KiB));
    assert.deepEqual((await held[0]!.response()).body, { code: 200, message: null, data: true });
    assert.equal((await postMultipart(s3.upload_url, content(4 * KiB))).body.code, 200);
    await held[1]!.write(file.subarray(8 * KiB));
    assert.deepEqual((await held[1]!.response()).body, { code: 200, message: null, data: true });
    for (const c of held) c.destroy();
  });

  // ---- bodies far over the limit ----

  const requests: { what: string; fileType: number; kind: 'put' | 'multipart'; first: Buffer; code: number }[] = [
    { what: 'a 200 MiB PUT to a 10 MiB voice slot', fileType: 101, kind: 'put', first: amrHead, code: 60003 },
    { what: 'a 200 MiB multipart POST to a 10 MiB voice slot', fileType: 101, kind: 'multipart', first: amrHead, code: 60003 },
    { what: 'a 200 MiB PUT of HTML to an image slot', fileType: 102, kind: 'put', first: Buffer.from('<!doctype html><html>'), code: 60004 },
  ];
  for (const r of requests) {
    test(`${r.what} is answered ${r.code} and closed long before the body is sent`, { timeout: 120_000 }, async (t) => {
      const s = await chatSlot(f.url, alice, { file_type: r.fileType, to_id: '1002', to_type: 1 });
      const declared = 200 * MiB;
      const conn = await startUpload(s.upload_url, r.kind, declared);
      // Streamed, never held: 256 KiB at a time until Ferry closes the connection.
      const chunk = Buffer.alloc(256 * KiB, 0x41);
      let body = 0;
      if (await conn.write(r.first)) body += r.first.length;
      while (body < declared && (await conn.write(chunk.subarray(0, Math.min(chunk.length, declared - body))))) {
        body += Math.min(chunk.length, declared - body);
      }
      // A Ferry that reads the refused body to its end takes all 200 MiB.
      assert.ok(conn.sent < 48 * MiB, `Ferry closed early: the client got ${(conn.sent / MiB).toFixed(1)} MiB of 200 MiB out`);
      t.diagnostic(`sent before the close: ${(conn.sent / MiB).toFixed(1)} MiB`);
      const answer = await conn.response();
      assert.equal(answer.status, 200);
      assert.equal(answer.body.code, r.code);
      assert.equal(answer.headers.connection, 'close');
      await conn.closed;
      await assertNothingStored(f, stores, s, alice);
    });
  }
});

// ---- connections ----

describe('connections', () => {
  let f: TestFerry;
  before(async () => {
    f = await startTestFerry({ FERRY_MAX_CONNECTIONS: '3' });
  });
  after(() => f.close());

  test('past FERRY_MAX_CONNECTIONS=3 a new connection is closed unanswered; once one ends, new ones are served', async () => {
    const get = (conn: RawConn) => conn.write(`GET /no-such-route HTTP/1.1\r\nHost: x\r\n\r\n`);
    // Three keep-alive connections, each answered once and left open.
    const open = await Promise.all([1, 2, 3].map(() => RawConn.open(f.url)));
    for (const c of open) {
      await get(c);
      assert.equal((await c.response()).status, 404);
    }
    const fourth = await RawConn.open(f.url);
    await get(fourth);
    await fourth.closed;
    assert.equal(fourth.bytesReceived(), 0, 'the fourth connection got no answer');
    for (const c of open) assert.equal(c.closedAt, null, 'the first three stay open');

    open[0]!.destroy();
    await eventually(async () => {
      const c = await RawConn.open(f.url);
      try {
        await get(c);
        assert.equal((await c.response()).status, 404);
      } finally {
        c.destroy();
      }
    });
    for (const c of open) c.destroy();
  });
});

// ---- what the HTTP parser refuses ----

describe('requests the HTTP parser refuses', () => {
  let f: TestFerry;
  before(async () => {
    f = await startTestFerry();
  });
  after(() => f.close());

  const cases = [
    { what: 'a malformed header line (400)', status: 400, request: 'GET /file/download/chat HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n' },
    { what: 'a malformed request line (400)', status: 400, request: 'GET /a b c d\r\n\r\n' },
    { what: 'headers over 16 KiB (431)', status: 431, request: `GET /file/download/chat HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * KiB)}\r\n\r\n` },
  ];
  for (const c of cases) {
    test(`${c.what} is answered with Connection: close and the connection ends`, async () => {
      const conn = await RawConn.open(f.url);
      await conn.write(c.request);
      const answer = await conn.response();
      assert.equal(answer.status, c.status);
      assert.equal(answer.headers.connection, 'close', 'a keep-alive client must not reuse this connection');
      assert.equal(answer.body.code, 10002);
      assert.ok(answer.body.message);
      await conn.closed;
    });
  }

  test('a keep-alive client whose request got 431 sends its next request on a new connection and it succeeds', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const send = (headers: Record<string, string>) =>
        new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
          const req = http.get(`${f.url}/no-such-route`, { agent, headers }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
          });
          req.on('error', reject);
        });
      const first = await send({ 'x-big': 'a'.repeat(20 * KiB) });
      assert.equal(first.status, 431);
      assert.equal(first.connection, 'close');
      assert.equal((await send({})).status, 404);
    } finally {
      agent.destroy();
    }
  });
});
