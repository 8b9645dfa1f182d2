// kill -9 during an upload, then a restart on the same data folder: in the embedded mode this
// process alone owns the data, so the dead upload's slot is usable again at once (not "busy"
// for minutes) and the file arrives intact. Everything in the data folder is the owner's alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { chatSlot, putRaw, withCreds } from '../helpers/client.ts';
import { plainImage } from '../helpers/media.ts';
import { eventually } from '../helpers/eventually.ts';
import { spawnFerry, type FerryProcess } from '../helpers/process.ts';

/** The same URL on the restarted Ferry (it listens on a new free port). */
const on = (base: string, url: string) => `${base}${new URL(url).pathname}${new URL(url).search}`;

const mode = (p: string) => fs.statSync(p).mode & 0o777;

/** Every folder 0700 and every file 0600 under dir. */
function assertOwnerOnly(dir: string): void {
  assert.equal(mode(dir), 0o700, `${dir} is 0700`);
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    assert.equal(mode(p), e.isDirectory() ? 0o700 : 0o600, `${p} is ${e.isDirectory() ? '0700' : '0600'}, not ${mode(p).toString(8)}`);
  }
}

/** Start a PUT that sends `sent` bytes of a `total`-byte body, then keeps the request open. */
function partialPut(uploadUrl: string, total: number, sent: Buffer): http.ClientRequest {
  const req = http.request(uploadUrl, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': total } });
  req.on('error', () => {}); // the server dies under it
  req.write(sent);
  return req;
}

test('kill -9 mid-upload: after a restart the same upload_url works at once and the file is intact; data folder, database and objects are owner-only', { timeout: 120_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-crash-'));
  fs.chmodSync(dataDir, 0o755); // as an older Ferry (or mkdir) left it: start must tighten it
  const env = { FERRY_DATA_DIR: dataDir, FERRY_ADMIN_KEY: 'crash-test-key' };
  let ferry: FerryProcess | undefined;
  try {
    ferry = await spawnFerry(env);
    assertOwnerOnly(dataDir);
    for (const f of ['ferry.sqlite', 'ferry.sqlite-wal', 'ferry.sqlite-shm']) assert.equal(mode(path.join(dataDir, f)), 0o600, `${f} is 0600`);

    const [sender, receiver] = await ferry.creds('crash', '1001', '1002');
    const slot = await chatSlot(ferry.url, sender!, { file_type: 100, to_id: '1002', to_type: 1 });
    const body = randomBytes(4 * 1024 * 1024);
    const req = partialPut(slot.upload_url, body.length, body.subarray(0, 1024 * 1024));
    // The upload has claimed its slot once its bytes are being staged.
    const staged = () => ['tmp', 'objects/.tmp'].some((d) => fs.existsSync(path.join(dataDir, d)) && fs.readdirSync(path.join(dataDir, d)).length > 0);
    await eventually(() => assert.ok(staged(), 'the upload is staging bytes'));
    await ferry.kill9();
    req.destroy();

    // An older Ferry made the database world-readable: the next start tightens it too.
    fs.chmodSync(path.join(dataDir, 'ferry.sqlite'), 0o644);
    ferry = await spawnFerry(env);
    assert.equal(mode(path.join(dataDir, 'ferry.sqlite')), 0o600, 'the database is tightened at start');
    assert.ok(
      ferry.logs.some((l) => l.msg.includes('released upload slots left claimed')),
      'the operator is told that a previous run died with an upload in flight',
    );

    const retry = await putRaw(on(ferry.url, slot.upload_url), body);
    assert.equal(retry.body.code, 200, `the retry succeeds at once: ${JSON.stringify(retry.body)}`);
    const got = await fetch(withCreds(on(ferry.url, slot.download_url), receiver!));
    assert.equal(got.status, 200);
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(body), 'the file downloads intact');

    // An image and its thumbnail: both stored owner-only, like everything else.
    const imgSlot = await chatSlot(ferry.url, sender!, { file_type: 102, to_id: '1002', to_type: 1 });
    assert.equal((await putRaw(imgSlot.upload_url, await plainImage('png', 640, 480))).body.code, 200);
    const thumb = await fetch(withCreds(imgSlot.download_url, receiver!, '&image_type=2'));
    assert.equal(thumb.status, 200);
    assert.match(thumb.headers.get('content-type') ?? '', /^image\//);
    await thumb.arrayBuffer();
    assert.ok(fs.readdirSync(path.join(dataDir, 'objects/derived'), { recursive: true }).length > 0, 'the thumbnail is stored');
    assertOwnerOnly(dataDir);
  } finally {
    await ferry?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
