// Another process holds SQLite's write lock for seconds (a CLI, a backup, sqlite3 at a shell):
// downloads go on at full speed, writes answer 10009 with a retry hint within a second instead
// of freezing the server, and everything works again once the lock is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { api, chatSlot, putRaw, withCreds, type Creds } from '../helpers/client.ts';
import { startTestFerry } from '../helpers/ferry.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HOLD_MS = 10_000;

/** A child process that takes the write lock (BEGIN IMMEDIATE) and holds it; resolves once held. */
function holdWriteLock(dbFile: string): Promise<{ released: Promise<void> }> {
  const script = `
    const db = require('better-sqlite3')(${JSON.stringify(dbFile)});
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${HOLD_MS});
    db.exec('ROLLBACK');
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const released = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve({ released }));
    child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

test('a database locked by another process for 10 s: downloads and chat slots answer within 1 s, uploads 10009 with a retry hint, never 60099; then it all works again', { timeout: 60_000 }, async () => {
  const f = await startTestFerry();
  try {
    const { appId } = await f.createApp('busy');
    const sender: Creds = { appId, token: await f.token(appId, '1001') };
    const receiver: Creds = { appId, token: await f.token(appId, '1002') };
    // One file already downloaded (its record is cached) and one never read before the lock.
    const files = await Promise.all(
      [0, 1].map(async () => {
        const bytes = randomBytes(100_000);
        const slot = await chatSlot(f.url, sender, { file_type: 100, to_id: '1002', to_type: 1 });
        assert.equal((await putRaw(slot.upload_url, bytes)).body.code, 200);
        return { bytes, url: withCreds(slot.download_url, receiver) };
      }),
    );
    await (await fetch(files[0]!.url)).arrayBuffer();
    const pending = await chatSlot(f.url, sender, { file_type: 100, to_id: '1002', to_type: 1 });

    const lock = await holdWriteLock(path.join(f.ferry.services.config.dataDir, 'ferry.sqlite'));
    const until = Date.now() + HOLD_MS - 2000;
    let rounds = 0;
    while (Date.now() < until) {
      const [d0, d1, s1, s2, up] = await Promise.all([
        timed(async () => Buffer.from(await (await fetch(files[0]!.url)).arrayBuffer())),
        timed(async () => Buffer.from(await (await fetch(files[1]!.url)).arrayBuffer())),
        timed(() => api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002', to_type: 1 }, sender)),
        timed(() => fetch(pending.upload_url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from('also while locked') })),
        timed(() => putRaw(pending.upload_url, Buffer.from('written while locked'))),
      ]);
      for (const [i, d] of [d0, d1].entries()) {
        assert.ok(d.ms < 1000, `download ${i} took ${Math.round(d.ms)} ms`);
        assert.ok(d.value.equals(files[i]!.bytes), `download ${i} has the right bytes`);
      }
      // A chat slot writes nothing (a signed capability), so it is handed out as usual; the
      // upload to it, which writes the record, is what the lock refuses.
      assert.ok(s1.ms < 1000, `a slot took ${Math.round(s1.ms)} ms`);
      assert.equal(s1.value.body.code, 200, JSON.stringify(s1.value.body));
      assert.ok(up.ms < 1000, `a write took ${Math.round(up.ms)} ms`);
      assert.equal(up.value.body.code, 10009, JSON.stringify(up.value.body));
      assert.match(up.value.body.message ?? '', /busy.*try again/);
      assert.ok(s2.ms < 1000);
      assert.equal(s2.value.headers.get('retry-after'), '2', 'a busy database tells clients when to retry');
      await s2.value.arrayBuffer();
      rounds++;
    }
    assert.ok(rounds >= 5, `the server kept answering during the lock (${rounds} rounds)`);

    await lock.released;
    assert.equal((await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002', to_type: 1 }, sender)).body.code, 200);
    const after = Buffer.from('written after the lock');
    assert.equal((await putRaw(pending.upload_url, after)).body.code, 200, 'the slot refused while locked is still usable');
    assert.ok(Buffer.from(await (await fetch(withCreds(pending.download_url, receiver))).arrayBuffer()).equals(after));
  } finally {
    await f.close();
  }
});
