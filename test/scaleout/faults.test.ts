// The store or the database goes away and comes back: clients get 10009 (storage) as a normal
// {code,message,data} answer, never a 5xx; no record ever points at bytes that are not there;
// and the same Ferry process serves again once the service is back, without a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, chatSlot, getJson, putRaw, withCreds, type Creds, type Slot } from '../helpers/client.ts';
import type { Inspector } from '../helpers/inspect.ts';
import { service, startCluster } from './cluster.ts';
import { SETTINGS_TTL_MS } from '../../src/pipelines/app-settings.ts';

const slotIdOf = (slot: Slot) => slot.upload_url.split('/').pop()!;

async function assertNoRecordWithoutBytes(inspect: Inspector): Promise<void> {
  for (const row of await inspect.files()) {
    if (row.status === 'ready') assert.notEqual(await inspect.readObject(row.storage_key), null, `ready file ${row.id} has its bytes`);
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what} did not happen within ${(attempts * 200) / 1000} s`);
}

test('RGW stopped: uploads and downloads answer 10009 without 5xx, nothing half-stored; Ferry resumes when RGW is back', { timeout: 180_000 }, async () => {
  const c = await startCluster(1);
  const f = c.nodes[0]!;
  let rgwDown = false;
  try {
    const { appId } = await f.createApp('rgw-fault');
    const u1: Creds = { appId, token: await f.token(appId, '1001') };
    const u2: Creds = { appId, token: await f.token(appId, '1002') };
    const before = Buffer.from('stored before the outage\n'.repeat(100));
    const kept = await chatSlot(f.url, u1, { file_type: 100, to_id: '1002', to_type: 1 });
    assert.equal((await putRaw(kept.upload_url, before)).body.code, 200);
    const slot = await chatSlot(f.url, u1, { file_type: 100, to_id: '1002', to_type: 1 });

    service('ceph-stop.sh', ['--rgw']);
    rgwDown = true;
    const during = Buffer.from('sent during the outage\n'.repeat(5000));
    const up = await putRaw(slot.upload_url, during);
    assert.equal(up.status, 200);
    assert.equal(up.body.code, 10009, JSON.stringify(up.body));
    // A chat slot is a capability: the failed upload's claim (its record) is dropped, so the slot can be used again.
    assert.equal(await c.inspect.fileBySlot(slotIdOf(slot)), undefined, 'the slot is given back for a retry');

    // A burst of mixed requests: storage answers 10009, the rest works; never a 5xx.
    const results = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        if (i % 3 === 0) return { kind: 'download', ...(await getJson(withCreds(kept.download_url, u2))) };
        if (i % 3 === 1) return { kind: 'slot', ...(await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002', to_type: 1 }, u1)) };
        const s = await chatSlot(f.url, u1, { file_type: 100, to_id: '1002', to_type: 1 });
        return { kind: 'upload', ...(await putRaw(s.upload_url, Buffer.from(`burst ${i}\n`.repeat(100)))) };
      }),
    );
    for (const r of results) {
      assert.equal(r.status, 200, `${r.kind}: HTTP ${r.status}`);
      assert.equal(r.body.code, r.kind === 'slot' ? 200 : 10009, `${r.kind}: ${JSON.stringify(r.body)}`);
    }
    const ready = (await c.inspect.files()).filter((r) => r.status === 'ready').map((r) => r.slot_id);
    assert.deepEqual(ready, [slotIdOf(kept)], 'no upload became ready during the outage');

    service('ceph-start.sh');
    rgwDown = false;
    // The same process serves again: the retry of the failed upload and the old file.
    await waitFor(async () => (await putRaw(slot.upload_url, during)).body.code === 200, 'the retried upload');
    const got = await fetch(withCreds(slot.download_url, u2));
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), during);
    const old = await fetch(withCreds(kept.download_url, u2));
    assert.deepEqual(Buffer.from(await old.arrayBuffer()), before);
    await assertNoRecordWithoutBytes(c.inspect);
  } finally {
    if (rgwDown) service('ceph-start.sh');
    await c.close();
  }
});

test('PostgreSQL stopped: requests answer 10009 without 5xx; Ferry reconnects by itself when it is back', { timeout: 180_000 }, async () => {
  // A cluster of its own, so stopping it cannot disturb other tests.
  const pg = { FERRY_PG_DIR: '/tmp/ferry-pg-fault', FERRY_PG_PORT: '54339' };
  const url = service('pg-start.sh', [], pg);
  let pgDown = false;
  const c = await startCluster(1, { FERRY_DATABASE_URL: url });
  const f = c.nodes[0]!;
  try {
    const { appId } = await f.createApp('pg-fault');
    const u1: Creds = { appId, token: await f.token(appId, '1001') };
    const u2: Creds = { appId, token: await f.token(appId, '1002') };
    const bytes = Buffer.from('stored before the outage\n'.repeat(100));
    const kept = await chatSlot(f.url, u1, { file_type: 100, to_id: '1002', to_type: 1 });
    assert.equal((await putRaw(kept.upload_url, bytes)).body.code, 200);
    const slot = await chatSlot(f.url, u1, { file_type: 100, to_id: '1002', to_type: 1 });

    service('pg-stop.sh', [], pg);
    pgDown = true;
    // A slot checks the app's quota settings, which a node reuses for up to SETTINGS_TTL_MS: once
    // that copy is older, a slot needs the database too.
    await new Promise((r) => setTimeout(r, SETTINGS_TTL_MS + 200));
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => getJson(withCreds(kept.download_url, u2))),
      ...Array.from({ length: 10 }, () => api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002', to_type: 1 }, u1)),
      putRaw(slot.upload_url, Buffer.from('during the outage')),
    ]);
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.body.code, 10009, JSON.stringify(r.body));
      assert.match(r.body.message ?? '', /database/);
    }

    service('pg-start.sh', [], pg);
    pgDown = false;
    await waitFor(async () => (await (await fetch(withCreds(kept.download_url, u2))).text()) === bytes.toString(), 'a download of the old file');
    assert.equal((await putRaw(slot.upload_url, Buffer.from('after the outage'))).body.code, 200);
    assert.equal(await (await fetch(withCreds(slot.download_url, u2))).text(), 'after the outage');
  } finally {
    if (pgDown) service('pg-start.sh', [], pg);
    await c.close();
    service('pg-stop.sh', ['--purge'], pg);
  }
});
