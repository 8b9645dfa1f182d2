// Chat slots are signed capabilities (src/auth/slot-capability.ts): handing one out writes
// nothing, and the record is written when the upload starts. These tests hold it to what the
// pending record used to guarantee: single use (also when two uploads race), expiry, no upload
// after the file was deleted, nothing forged, and "not uploaded yet" before the upload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { chatSlot, getJson, postMultipart, putRaw, withCreds, type Creds, type Slot } from '../helpers/client.ts';
import { signClaims, signOf } from '../helpers/jwt.ts';
import { newSlotSecret, readSlotCapability, SLOT_CAPABILITY } from '../../src/auth/slot-capability.ts';
import { capabilityFileId, capabilityOf, reminted as remintedWith, withCapability } from '../helpers/capability.ts';

let f: TestFerry;
let appId: string;
let creds: Creds;
let reader: Creds;

before(async () => {
  f = await startTestFerry();
  ({ appId } = await f.createApp('slots'));
  creds = { appId, token: await f.token(appId, '1001') };
  reader = { appId, token: await f.token(appId, '1002') };
});
after(() => f.close());

const slot = () => chatSlot(f.url, creds, { file_type: 100, to_id: '1002', to_type: 1 });
const downloadCode = async (s: Slot, who = reader) => (await getJson(withCreds(s.download_url, who))).body.code;

async function download(s: Slot): Promise<Buffer> {
  const res = await fetch(withCreds(s.download_url, reader));
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

/** Objects no ready record accounts for, and bytes still staged: both must stay empty. */
async function assertNoPartialFile(): Promise<void> {
  const files = await f.inspect.files();
  const ready = new Set(files.filter((r) => r.status === 'ready').map((r) => r.storage_key));
  assert.deepEqual((await f.inspect.objectKeys()).filter((k) => !ready.has(k)), [], 'no object without a ready record');
  assert.deepEqual(await f.inspect.stagedUploads(), [], 'nothing left staged');
  assert.deepEqual(files.filter((r) => r.status === 'uploading'), [], 'no claim left behind');
}

/** The capability with other terms, re-signed with the app's key: what only Ferry can make. */
async function reminted(s: Slot, change: { expiresAt?: number; maxBytes?: number }): Promise<string> {
  return remintedWith((await f.ferry.services.apps.get(appId))!, capabilityOf(s.upload_url), change);
}

test('handing out a slot writes no record; the download before the upload says 60002', async () => {
  const before = (await f.inspect.files()).length;
  const s = await slot();
  assert.equal(s.upload_method, 'POST');
  assert.match(capabilityOf(s.upload_url), SLOT_CAPABILITY);
  assert.ok(capabilityOf(s.upload_url).startsWith(`${signOf(s.download_url)}.`), 'the capability is the download_url\'s sign and the slot\'s secret');
  assert.equal((await f.inspect.files()).length, before, 'no record for a slot');
  assert.equal(await downloadCode(s), 60002);
  assert.equal(await downloadCode(s, creds), 60002, 'the sender too');
});

test('the answer is JSON with its content type, as JSON.stringify would write it; a refusal keeps the envelope', async () => {
  const query = (q: Record<string, string>) => `${f.url}/file/upload/chat?${new URLSearchParams({ app_id: appId, 'access-token': creds.token!, ...q })}`;
  const res = await fetch(query({ file_type: '100', to_id: '1002' }));
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  const text = await res.text();
  const answer = JSON.parse(text) as { code: number; message: null; data: Slot };
  assert.equal(text, JSON.stringify(answer));
  assert.deepEqual(Object.keys(answer), ['code', 'message', 'data']);
  assert.deepEqual(Object.keys(answer.data), ['upload_url', 'upload_method', 'oss_body_param', 'download_url']);
  assert.equal(answer.code, 200);
  assert.equal(answer.data.upload_method, 'POST');
  const refused = await fetch(query({ file_type: '200', to_id: '1002' }));
  assert.equal(refused.headers.get('content-type'), 'application/json; charset=utf-8');
  const body = (await refused.json()) as { code: number; message: string; data: null };
  assert.equal(body.code, 10002);
  assert.match(body.message, /group shared file/);
  assert.equal(body.data, null);
});

test('two uploads racing for one slot: exactly one wins, the other gets 60006 or 60007, and no partial file', async () => {
  for (let round = 0; round < 5; round++) {
    const s = await slot();
    const a = Buffer.alloc(512 * 1024, `racer A ${round} `);
    const b = Buffer.alloc(512 * 1024, `racer B ${round} `);
    const [ra, rb] = await Promise.all([putRaw(s.upload_url, a), postMultipart(s.upload_url, b)]);
    const codes = [ra.body.code, rb.body.code];
    assert.equal(codes.filter((c) => c === 200).length, 1, `exactly one wins: ${JSON.stringify(codes)}`);
    const loser = codes.find((c) => c !== 200);
    assert.ok(loser === 60006 || loser === 60007, `the other is told the slot is used or busy: ${loser}`);
    assert.deepEqual(await download(s), ra.body.code === 200 ? a : b, "the winner's bytes, whole");
    assert.equal((await putRaw(s.upload_url, Buffer.from('later'))).body.code, 60006, 'afterwards the slot is used');
  }
  await assertNoPartialFile();
});

test('an expired capability is refused with 60005 and writes nothing', async () => {
  const s = await slot();
  const expired = await reminted(s, { expiresAt: Date.now() - 1 });
  const up = await putRaw(withCapability(s.upload_url, expired), Buffer.from('too late'));
  assert.equal(up.body.code, 60005);
  assert.match(String(up.body.message), /expired/);
  const fid = capabilityFileId(expired);
  assert.ok(!(await f.inspect.files()).some((r) => r.id === fid), 'no record');
  await assertNoPartialFile();
});

test('a tampered or foreign capability, or a download_url made into one, is refused with 60005 and writes nothing', async () => {
  const s = await slot();
  const cap = capabilityOf(s.upload_url);
  const [header, payload, mac, expiresAt, maxBytes, nonce] = cap.split('.') as [string, string, string, string, string, string];
  const sign = `${header}.${payload}.${mac}`;
  const fid = capabilityFileId(cap);
  const keys = (await f.ferry.services.apps.get(appId))!;
  const claims = readSlotCapability(cap).claims;
  // Another conversation under the same MAC.
  const otherPayload = Buffer.from(JSON.stringify({ ...claims, to_id: '9999' })).toString('base64url');
  const flip = (text: string) => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
  // The right claims and commitment signed by another app's key.
  const other = await f.createApp('slots-other');
  const otherKeys = (await f.ferry.services.apps.get(other.appId))!;
  const otherSign = otherKeys.sign({ ...claims, app: appId });
  // Whoever holds only the download_url knows the sign, not the nonce: every guess fails.
  const guessed = newSlotSecret({ expiresAt: Number(expiresAt), maxBytes: Number(maxBytes) }).nonce;
  // A sign without a commitment (as every forward's is), with this slot's secret.
  const { sc: _sc, ...noCommitment } = claims;
  const uncommitted = keys.sign(noCommitment);
  const later = String(Number(expiresAt) + 3_600_000);
  const bigger = String(Number(maxBytes) * 2);
  for (const bad of [
    `${header}.${otherPayload}.${mac}.${expiresAt}.${maxBytes}.${nonce}`,
    `${header}.${payload}.${flip(mac)}.${expiresAt}.${maxBytes}.${nonce}`,
    `${otherSign}.${expiresAt}.${maxBytes}.${nonce}`,
    `${sign}.${expiresAt}.${maxBytes}.${guessed}`,
    `${sign}.${later}.${maxBytes}.${nonce}`,
    `${sign}.${expiresAt}.${bigger}.${nonce}`,
    `${uncommitted}.${expiresAt}.${maxBytes}.${nonce}`,
    `${sign}.${expiresAt}.${maxBytes}.${flip(nonce)}`,
    `${sign}.${expiresAt}.${maxBytes}.${nonce.slice(0, 21)}`,
    `${sign}.${expiresAt}.${maxBytes}`,
  ]) {
    const up = await postMultipart(withCapability(s.upload_url, bad), Buffer.from('forged'));
    assert.equal(up.body.code, 60005, bad);
    assert.equal(up.body.message, 'upload slot not found: ask for a new one');
  }
  assert.ok(!(await f.inspect.files()).some((r) => r.id === fid), 'no record');
  await assertNoPartialFile();
  // The real one still works.
  assert.equal((await putRaw(s.upload_url, Buffer.from('genuine'))).body.code, 200);
});

test('the limit a capability carries holds: re-signed with a smaller one, a bigger upload is refused', async () => {
  // The limit travels in the capability: what the slot said when it was handed out is what holds.
  const s = await slot();
  const small = withCapability(s.upload_url, await reminted(s, { maxBytes: 1000 }));
  const up = await putRaw(small, Buffer.alloc(1001, 1));
  assert.equal(up.body.code, 60003);
  assert.equal((await putRaw(small, Buffer.alloc(1000, 1))).body.code, 200);
});

test('a capability whose file was uploaded and then deleted is refused with 60006', async () => {
  const s = await slot();
  assert.equal((await putRaw(s.upload_url, Buffer.from('soon deleted'))).body.code, 200);
  const del = await f.admin('POST', `/admin/apps/${appId}/files/delete`, { urls: [s.download_url] });
  assert.equal((del.body.results as Array<{ result: string }>)[0]!.result, 'deleted');
  assert.equal(await downloadCode(s), 60050);
  const again = await putRaw(s.upload_url, Buffer.from('back from the dead'));
  assert.equal(again.body.code, 60006);
  assert.equal(await downloadCode(s), 60050, 'still deleted');
});

test('a refused upload drops its claim: the download still says 60002 and the slot takes a retry', async () => {
  const s = await slot();
  const fid = capabilityFileId(capabilityOf(s.upload_url));
  const refused = await postMultipart(s.upload_url, Buffer.alloc(0));
  assert.equal(refused.body.code, 60008);
  assert.ok(!(await f.inspect.files()).some((r) => r.id === fid), 'the claim is gone');
  assert.equal(await downloadCode(s), 60002);
  assert.equal((await putRaw(s.upload_url, Buffer.from('second try'))).body.code, 200);
  assert.deepEqual(await download(s), Buffer.from('second try'));
});

test('a sign whose slot expired unused is 60011, as a swept slot was', async () => {
  const s = await slot();
  const keys = (await f.ferry.services.apps.get(appId))!;
  const claims = signClaims(s.download_url);
  // The same sign, minted longer ago than a slot lives: no record, no slot that could still make one.
  const old = keys.sign({ ...claims, iat: Math.floor(Date.now() / 1000) - f.ferry.services.config.slotTtlSeconds - 5 });
  const oldUrl = s.download_url.replace(signOf(s.download_url), old);
  assert.equal((await getJson(withCreds(oldUrl, reader))).body.code, 60011);
  assert.equal(await downloadCode(s), 60002);
});

test('a slot handed out before a key rotation still takes its upload; one made with a key two rotations old does not', async () => {
  const s = await slot();
  assert.equal((await f.admin('POST', `/admin/apps/${appId}/secret/rotate`, { grace_s: 60 })).status, 200);
  creds = { appId, token: await f.token(appId, '1001') };
  reader = { appId, token: await f.token(appId, '1002') };
  assert.equal((await putRaw(s.upload_url, Buffer.from('across a rotation'))).body.code, 200);
  assert.deepEqual(await download(s), Buffer.from('across a rotation'));

  const old = await slot();
  for (let i = 0; i < 2; i++) assert.equal((await f.admin('POST', `/admin/apps/${appId}/secret/rotate`, { grace_s: 60 })).status, 200);
  creds = { appId, token: await f.token(appId, '1001') };
  reader = { appId, token: await f.token(appId, '1002') };
  assert.equal((await putRaw(old.upload_url, Buffer.from('too old a key'))).body.code, 60005);
});
