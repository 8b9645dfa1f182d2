// The janitor's lifecycle sweep with an injected clock, against a real Ferry's services: retention
// per kind, superseded avatars, purges the store interrupted, and multipart uploads nobody will
// finish. Each check looks into the store itself (the data folder or the bucket).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import { isScaleOut, startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { api, getJson, postMultipart, withCreds, type Creds, type Envelope, type Slot } from '../helpers/client.ts';
import { signClaims, uploadChat } from '../helpers/jwt.ts';
import { plainImage } from '../helpers/media.ts';
import { s3ClientFor } from '../helpers/storage-mode.ts';
import { sweepLifecycle } from '../../src/janitor.ts';

const DAY = 24 * 60 * 60 * 1000;
const GROUP = '900';

let f: TestFerry;
before(async () => {
  f = await startTestFerry();
});
after(() => f.close());

/** enough of an MP4's first box for the upload's type check (the test never plays it) */
const MP4_HEAD = Buffer.from('0000001c667479706d703432000000006d70343269736f6d61766331', 'hex');

const unique = (label: string) => Buffer.from(`${label} ${Math.random()}\n`.repeat(30));

async function codeOf(url: string, creds: Creds): Promise<number> {
  const res = await fetch(withCreds(url, creds));
  if (res.headers.get('content-type')?.startsWith('application/json')) return ((await res.json()) as Envelope).code;
  await res.arrayBuffer();
  assert.equal(res.status, 200);
  return 200;
}

/** the storage key of a download_url's file, from the database */
async function keyOf(url: string): Promise<string> {
  const id = url.includes('object_name=') ? new URL(url).searchParams.get('object_name')! : (signClaims(url).fid as string);
  const row = (await f.inspect.files()).find((r) => r.id === id);
  assert.ok(row, `the record of ${id} exists`);
  return row.storage_key;
}

const stored = async (url: string) => (await f.inspect.objectKeys()).includes(await keyOf(url));

async function janitorEntries(appId: string): Promise<Array<{ actor: string; action: string; target: string; detail: Record<string, unknown> }>> {
  const log = await f.admin('GET', `/admin/apps/${appId}/audit?limit=1000`);
  return (log.body.entries as Array<{ actor: string; action: string; target: string; detail: Record<string, unknown> }>).filter((e) => e.actor === 'janitor');
}

async function uploadAvatar(creds: Creds): Promise<string> {
  const r = await api<Slot>(f.url, '/file/upload/avatar/user', {}, creds);
  assert.equal(r.body.code, 200, JSON.stringify(r.body));
  const up = await postMultipart(r.body.data.upload_url, await plainImage('png', 32, 32), { filename: 'me.png' });
  assert.equal(up.body.code, 200, JSON.stringify(up.body));
  return r.body.data.download_url;
}

test('retention deletes exactly the kinds whose days have passed, bytes and all, and writes each to the audit log', async () => {
  const { appId } = await f.createApp('keep-some');
  const t1: Creds = { appId, token: await f.token(appId, '1') };
  const t2: Creds = { appId, token: await f.token(appId, '2') };
  await f.group(appId, GROUP, '1');
  const urls = {
    chat: await uploadChat(f.url, t1, { to_id: '2', file_type: 100 }, unique('chat')),
    voice: await uploadChat(f.url, t1, { to_id: '2', file_type: 101 }, Buffer.concat([Buffer.from('#!AMR\n'), unique('voice')])),
    image: await uploadChat(f.url, t1, { to_id: '2', file_type: 102 }, await plainImage('png', 40, 30)),
    video: await uploadChat(f.url, t1, { to_id: '2', file_type: 103 }, Buffer.concat([MP4_HEAD, unique('video')])),
    shared: await uploadChat(f.url, t1, { to_id: GROUP, to_type: 2, file_type: 200 }, unique('shared')),
    avatar: await uploadAvatar(t1),
  };
  // A forward of the image is a copy of it: retention takes every copy.
  const fwd = await api<string>(f.url, '/file/upload/forward', { file_sign: new URL(urls.image).searchParams.get('file_sign')!, to_id: '3', to_type: 1 }, t2);
  assert.equal(fwd.body.code, 200, JSON.stringify(fwd.body));
  const patched = await f.admin('PATCH', `/admin/apps/${appId}`, { retention_days: { chat: 180, voice: 10, image: 30, shared: 60, video: 0 } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  const usageBefore = await f.admin('GET', `/admin/apps/${appId}/usage`);

  const now = Date.now();
  const first = await sweepLifecycle(f.ferry.services, now + 29 * DAY);
  assert.equal(first.retention, 1, 'only the voice file is older than its 10 days');
  const second = await sweepLifecycle(f.ferry.services, now + 31 * DAY);
  assert.equal(second.retention, 1, 'then the image, with its forward');

  for (const kind of ['voice', 'image'] as const) {
    assert.equal(await codeOf(urls[kind], t2), 60050, `${kind} is refused`);
    assert.equal(await stored(urls[kind]), false, `${kind}'s bytes left the store`);
  }
  assert.equal(await codeOf(fwd.body.data, t2), 60050, 'the forward went with it');
  for (const kind of ['chat', 'video', 'shared', 'avatar'] as const) {
    assert.equal(await codeOf(urls[kind], t1), 200, `${kind} is kept`);
    assert.equal(await stored(urls[kind]), true, `${kind}'s bytes are kept`);
  }
  const entries = await janitorEntries(appId);
  assert.deepEqual(entries.map((e) => [e.action, e.detail.kind]).sort(), [
    ['file.retention', 'image'],
    ['file.retention', 'voice'],
  ]);
  assert.equal(entries.find((e) => e.detail.kind === 'image')?.detail.copies, 2);
  const usageAfter = await f.admin('GET', `/admin/apps/${appId}/usage`);
  assert.equal(usageAfter.body.files, (usageBefore.body.files as number) - 2, 'usage counts what is left');

  const third = await sweepLifecycle(f.ferry.services, now + 181 * DAY);
  assert.equal(third.retention, 2, 'chat and shared files, past 180 and 60 days');
  for (const kind of ['chat', 'shared'] as const) assert.equal(await stored(urls[kind]), false, `${kind}'s bytes left the store`);
  for (const kind of ['video', 'avatar'] as const) assert.equal(await stored(urls[kind]), true, `${kind}: no retention, kept`);
  const again = await sweepLifecycle(f.ferry.services, now + 181 * DAY);
  assert.equal(again.retention, 0, 'a second sweep finds nothing more');
});

test('retention works through more files than one batch, and keeps quarantined bytes for review', async () => {
  const { appId } = await f.createApp('many');
  const t1: Creds = { appId, token: await f.token(appId, '1') };
  const urls: string[] = [];
  for (let i = 0; i < 7; i++) urls.push(await uploadChat(f.url, t1, { to_id: '2', file_type: 100 }, unique(`batch ${i}`)));
  const held = await uploadChat(f.url, t1, { to_id: '2', file_type: 100 }, unique('held'));
  const q = await f.admin('POST', `/admin/apps/${appId}/files/quarantine`, { urls: [held], reason: 'review' });
  assert.equal((q.body.results as Array<{ result: string }>)[0]!.result, 'quarantined');
  await f.admin('PATCH', `/admin/apps/${appId}`, { retention_days: { chat: 1 } });

  const out = await sweepLifecycle(f.ferry.services, Date.now() + 2 * DAY, { batch: 3 });
  assert.equal(out.retention, 7);
  for (const url of urls) assert.equal(await stored(url), false);
  assert.equal(await stored(held), true, 'quarantined bytes stay');
  assert.equal((await janitorEntries(appId)).length, 7);
});

test('superseded avatars go a day after two newer ones arrived; the latest two stay', async () => {
  const { appId } = await f.createApp('faces');
  const t1: Creds = { appId, token: await f.token(appId, '1') };
  const avatars: string[] = [];
  for (let i = 0; i < 4; i++) avatars.push(await uploadAvatar(t1));

  assert.equal((await sweepLifecycle(f.ferry.services, Date.now())).avatars, 0, 'not a day yet');
  for (const url of avatars) assert.equal(await stored(url), true);

  const out = await sweepLifecycle(f.ferry.services, Date.now() + DAY + 60_000);
  assert.equal(out.avatars, 2);
  for (const url of avatars.slice(0, 2)) {
    assert.equal(await stored(url), false, 'a superseded avatar left the store');
    assert.equal((await getJson(withCreds(url, t1))).body.code, 60050);
  }
  for (const url of avatars.slice(2)) assert.equal(await codeOf(url, t1), 200, 'the latest two stay');
  assert.deepEqual(
    (await janitorEntries(appId)).map((e) => e.action),
    ['avatar.superseded', 'avatar.superseded'],
  );
});

test('a file left purging by a store failure has its bytes removed by the next sweep', async () => {
  const { appId } = await f.createApp('stuck');
  const t1: Creds = { appId, token: await f.token(appId, '1') };
  const url = await uploadChat(f.url, t1, { to_id: '2' }, unique('stuck'));
  const fid = signClaims(url).fid as string;
  // What a delete leaves when the store fails right after the database said "purging": the
  // URL refused, the bytes still there.
  const done = await f.ferry.services.meta.deleteRef(appId, fid, Date.now());
  assert.equal(done?.purge?.status, 'purging');
  assert.equal(await stored(url), true);
  assert.equal(await codeOf(url, t1), 60050);
  const usageBefore = await f.admin('GET', `/admin/apps/${appId}/usage`);
  assert.equal(usageBefore.body.files, 1);

  const out = await sweepLifecycle(f.ferry.services);
  assert.ok(out.purged >= 1);
  assert.equal(await stored(url), false, 'the bytes left the store');
  assert.equal((await f.inspect.files()).find((r) => r.id === fid)?.status, 'deleted');
  assert.equal((await f.admin('GET', `/admin/apps/${appId}/usage`)).body.files, 0, 'usage counted once');
  assert.deepEqual(
    (await janitorEntries(appId)).map((e) => [e.action, e.target]),
    [['file.purge', fid]],
  );
});

test('multipart uploads Ferry started and never finished are aborted a day later (stores that write in parts)', async () => {
  if (!isScaleOut(f.env)) {
    assert.equal(f.ferry.services.bytes.abortStaleUploads, undefined, 'local disk writes no parts');
    assert.equal((await sweepLifecycle(f.ferry.services, Date.now() + 2 * DAY)).aborted, 0);
    return;
  }
  const bucket = f.ferry.services.config.store!.slice('s3://'.length);
  const s3 = s3ClientFor(f.env);
  try {
    const key = `files/z/stale-${Math.random().toString(36).slice(2)}`;
    await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    // Not Ferry's: an upload under another prefix is left alone.
    const foreign = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `elsewhere/${Math.random()}` }));
    try {
      assert.equal((await sweepLifecycle(f.ferry.services)).aborted, 0, 'not a day old');
      assert.ok((await f.inspect.stagedUploads()).includes(key));
      const out = await sweepLifecycle(f.ferry.services, Date.now() + DAY + 60_000);
      assert.equal(out.aborted, 1);
      assert.deepEqual(
        (await f.inspect.stagedUploads()).filter((k) => k.startsWith('files/') || k.startsWith('derived/')),
        [],
        'no unfinished upload of Ferry is left in the bucket',
      );
      assert.ok((await f.inspect.stagedUploads()).some((k) => k.startsWith('elsewhere/')), 'the foreign upload stays');
    } finally {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: foreign.Key!, UploadId: foreign.UploadId! })).catch(() => {});
    }
  } finally {
    s3.destroy();
  }
});
