// The data folder's disk fills up or turns read-only: uploads, slot requests and thumbnails
// answer 10009 with a message that says so, the log names the folder and the cause, nothing
// answers 60099, and once space (or write access) is back everything works again. Real
// file systems: tmpfs mounts (root), unmounted afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { api, chatSlot, putRaw, withCreds, type Creds, type Slot } from '../helpers/client.ts';
import { plainImage } from '../helpers/media.ts';
import { spawnFerry, type FerryProcess } from '../helpers/process.ts';
import { eventually } from '../helpers/eventually.ts';

const mount = (...args: string[]) => execFileSync('mount', args, { stdio: 'pipe' });

function fill(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  try {
    for (let chunk = 1 << 20; chunk >= 1; ) {
      try {
        fs.writeSync(fd, Buffer.alloc(chunk));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        chunk >>= 1;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

async function setup(ferry: FerryProcess): Promise<{ sender: Creds; receiver: Creds; image: Slot; imageBytes: Buffer; slot: Slot }> {
  const [sender, receiver] = await ferry.creds('disk', '1001', '1002');
  const imageBytes = await plainImage('png', 640, 480);
  const image = await chatSlot(ferry.url, sender!, { file_type: 102, to_id: '1002', to_type: 1 });
  assert.equal((await putRaw(image.upload_url, imageBytes)).body.code, 200);
  const slot = await chatSlot(ferry.url, sender!, { file_type: 100, to_id: '1002', to_type: 1 });
  return { sender: sender!, receiver: receiver!, image, imageBytes, slot };
}

async function thumbnail(image: Slot, creds: Creds) {
  const res = await fetch(withCreds(image.download_url, creds, '&image_type=2'));
  const body = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(body.toString()) as { code: number; message: string }) : null;
  return { status: res.status, json, body };
}

const errorLogs = (ferry: FerryProcess) => ferry.logs.filter((l) => l.level >= 50).map((l) => l.msg);

/** The log lines arrive through a pipe, maybe just after the answer. */
async function assertLogged(ferry: FerryProcess, re: RegExp, what: string): Promise<void> {
  await eventually(() => assert.ok(errorLogs(ferry).some((m) => re.test(m)), `${what}: ${errorLogs(ferry).join(' | ')}`), 100);
}

test('a full data folder: uploads and thumbnails answer 10009 "out of storage space", never 60099; freeing space brings them back', { timeout: 60_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-full-'));
  mount('-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', dataDir);
  let ferry: FerryProcess | undefined;
  try {
    ferry = await spawnFerry({ FERRY_DATA_DIR: dataDir, FERRY_ADMIN_KEY: 'disk-test-key' });
    const { sender, receiver, image, slot } = await setup(ferry);
    const filler = fill(dataDir);

    // A chat slot writes nothing (it is a signed capability), so it is still handed out; the
    // upload to it, which writes the record, is what the full disk refuses.
    const slotReq = await api(ferry.url, '/file/upload/chat', { file_type: 100, to_id: '1002', to_type: 1 }, sender);
    assert.equal(slotReq.status, 200);
    assert.equal(slotReq.body.code, 200, JSON.stringify(slotReq.body));
    const fresh = await putRaw((slotReq.body.data as Slot).upload_url, Buffer.alloc(64 * 1024, 7));
    assert.equal(fresh.body.code, 10009, JSON.stringify(fresh.body));
    assert.match(fresh.body.message ?? '', /out of storage space/);
    const up = await putRaw(slot.upload_url, Buffer.alloc(64 * 1024, 7));
    assert.equal(up.body.code, 10009, JSON.stringify(up.body));
    const th = await thumbnail(image, receiver);
    assert.equal(th.status, 200);
    assert.equal(th.json?.code, 10009, JSON.stringify(th.json));
    assert.match(th.json?.message ?? '', /out of storage space/);
    await assertLogged(ferry, /disk holding the SQLite database is full/, "the log says the database's disk is full");
    await assertLogged(ferry, /media scratch folder .*no space left/, 'the log names the scratch folder');
    assert.ok(!errorLogs(ferry).includes('unexpected error'), 'nothing is an internal error');

    fs.rmSync(filler);
    assert.equal((await api(ferry.url, '/file/upload/chat', { file_type: 100, to_id: '1002', to_type: 1 }, sender)).body.code, 200);
    assert.equal((await putRaw(slot.upload_url, Buffer.alloc(64 * 1024, 7))).body.code, 200, 'the refused slot is usable again');
    const again = await thumbnail(image, receiver);
    assert.equal(again.json, null, `the thumbnail is made: ${JSON.stringify(again.json)}`);
  } finally {
    await ferry?.stop();
    execFileSync('umount', ['-l', dataDir]);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('read-only objects and media scratch disks: uploads and thumbnails answer 10009, downloads and slot requests still work; rw again brings them back', { timeout: 60_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-ro-'));
  // Each on a file system of its own (the database stays writable: SQLite keeps its files open,
  // and Linux refuses to remount a file system read-only under open writable files).
  const disks = ['objects', 'media-tmp'].map((d) => path.join(dataDir, d));
  for (const d of disks) {
    fs.mkdirSync(d);
    mount('-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', d);
  }
  let ferry: FerryProcess | undefined;
  try {
    ferry = await spawnFerry({ FERRY_DATA_DIR: dataDir, FERRY_ADMIN_KEY: 'disk-test-key' });
    const { sender, receiver, image, imageBytes, slot } = await setup(ferry);
    for (const d of disks) mount('-o', 'remount,ro', d);

    const up = await putRaw(slot.upload_url, Buffer.alloc(64 * 1024, 7));
    assert.equal(up.body.code, 10009, JSON.stringify(up.body));
    assert.match(up.body.message ?? '', /cannot write to its storage/);
    const th = await thumbnail(image, receiver);
    assert.equal(th.json?.code, 10009, JSON.stringify(th.json));
    assert.match(th.json?.message ?? '', /cannot write to its storage/);
    const orig = await fetch(withCreds(image.download_url, receiver));
    assert.ok(Buffer.from(await orig.arrayBuffer()).equals(imageBytes), 'downloads still work');
    assert.equal((await api(ferry.url, '/file/upload/chat', { file_type: 100, to_id: '1002', to_type: 1 }, sender)).body.code, 200);
    await assertLogged(ferry, /objects.*read-only \(EROFS\)/, 'the log names the objects folder');
    await assertLogged(ferry, /media scratch folder .*read-only \(EROFS\)/, 'the log names the scratch folder');
    assert.ok(!errorLogs(ferry).includes('unexpected error'), 'nothing is an internal error');

    for (const d of disks) mount('-o', 'remount,rw', d);
    assert.equal((await putRaw(slot.upload_url, Buffer.alloc(64 * 1024, 7))).body.code, 200, 'the refused slot is usable again');
    assert.equal((await thumbnail(image, receiver)).json, null, 'the thumbnail is made');
  } finally {
    await ferry?.stop();
    for (const d of disks) execFileSync('umount', ['-l', d]);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
