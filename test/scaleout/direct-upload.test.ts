// Direct uploads, opt-in per app: the slot hands out a presigned PUT into the bucket (type
// signed), the bytes skip Ferry, and the object is confirmed (HEAD, size and content checked
// against file_type) before its sign becomes downloadable. Apps not opted in keep uploading
// through Ferry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { api, chatSlot, getJson, withCreds, type Creds, type Slot } from '../helpers/client.ts';
import { signOf } from '../helpers/jwt.ts';
import { sweepExpiredSlots } from '../../src/janitor.ts';
import { startCluster, type Cluster } from './cluster.ts';

let c: Cluster;
let android: Creds;
let android2: Creds;
let web: Creds;

before(async () => {
  c = await startCluster(1, { FERRY_S3_DIRECT_UPLOAD_APPS: 'android-app', FERRY_MAX_IMAGE_SIZE: '64K' });
  const f = c.nodes[0]!;
  await f.createApp('android-app');
  await f.createApp('web-app');
  android = { appId: 'android-app', token: await f.token('android-app', '1001') };
  android2 = { appId: 'android-app', token: await f.token('android-app', '1002') };
  web = { appId: 'web-app', token: await f.token('web-app', '1001') };
});
after(() => c.close());

const png = (w = 40, h = 30) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toBuffer();
const recordOf = async (slot: Slot) => {
  // A direct slot's upload_url is the bucket's; the record is found by the sign's file id.
  const fid = JSON.parse(Buffer.from(signOf(slot.download_url).split('.')[1]!, 'base64url').toString()).fid as string;
  return (await c.inspect.files()).find((r) => r.id === fid)!;
};

function putToStore(url: string, body: Buffer, contentType = 'application/octet-stream') {
  return fetch(url, { method: 'PUT', body: new Uint8Array(body), headers: { 'content-type': contentType } });
}

test('an opted-in app gets a presigned PUT; the bytes skip Ferry and become downloadable once confirmed', async () => {
  const f = c.nodes[0]!;
  const slot = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  assert.equal(slot.upload_method, 'PUT');
  assert.ok(slot.upload_url.startsWith(`${c.env.FERRY_S3_ENDPOINT}/`), slot.upload_url);
  assert.deepEqual(slot.oss_body_param, {});
  assert.equal((await getJson(withCreds(slot.download_url, android2))).body.code, 60002, 'nothing to download before the PUT');

  const bytes = await png();
  // The content type is signed: another one is refused by the store itself.
  assert.equal((await putToStore(slot.upload_url, bytes, 'text/html')).status, 403);
  const put = await putToStore(slot.upload_url, bytes);
  assert.equal(put.status, 200);
  assert.equal((await recordOf(slot)).status, 'pending', 'not ready before Ferry has checked it');

  const res = await fetch(withCreds(slot.download_url, android2));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png', 'type sniffed from the bytes');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
  const row = await recordOf(slot);
  assert.equal(row.status, 'ready');
  assert.equal(row.size, bytes.length);
});

test('a direct upload that breaks the rules is refused when confirmed, and its bytes are deleted', async () => {
  const f = c.nodes[0]!;
  const html = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  assert.equal((await putToStore(html.upload_url, Buffer.from('<html><script>alert(1)</script></html>'))).status, 200);
  assert.equal((await getJson(withCreds(html.download_url, android2))).body.code, 60004);
  const htmlRow = await recordOf(html);
  assert.equal(htmlRow.status, 'pending');
  assert.equal(await c.inspect.readObject(htmlRow.storage_key), null);

  const big = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  const huge = await sharp({ create: { width: 400, height: 400, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  assert.ok(huge.length > 64 * 1024);
  assert.equal((await putToStore(big.upload_url, huge)).status, 200);
  assert.equal((await getJson(withCreds(big.download_url, android2))).body.code, 60003);
  assert.equal(await c.inspect.readObject((await recordOf(big)).storage_key), null);

  // The slot is still usable: a good file afterwards is accepted.
  const good = await png();
  assert.equal((await putToStore(big.upload_url, good)).status, 200);
  assert.deepEqual(Buffer.from(await (await fetch(withCreds(big.download_url, android2))).arrayBuffer()), good);
});

test('forwarding confirms a direct upload too, and the janitor keeps confirmed uploads whose slot expired', async () => {
  const f = c.nodes[0]!;
  const slot = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  const bytes = await png(20, 20);
  assert.equal((await putToStore(slot.upload_url, bytes)).status, 200);
  const fwd = await api<string>(f.url, '/file/upload/forward', { file_sign: signOf(slot.download_url), to_id: '1003', to_type: 1 }, android);
  assert.equal(fwd.body.code, 200, JSON.stringify(fwd.body));

  const late = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  assert.equal((await putToStore(late.upload_url, bytes)).status, 200);
  const empty = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  // Long after both slots expired: the uploaded one is a file, the empty one is swept.
  await sweepExpiredSlots(f.ferry.services, Date.now() + 8 * 24 * 3600 * 1000);
  assert.equal((await recordOf(late)).status, 'ready');
  assert.equal(await recordOf(empty), undefined);
  assert.deepEqual(Buffer.from(await (await fetch(withCreds(late.download_url, android2))).arrayBuffer()), bytes);
});

test('an app not opted in keeps uploading through Ferry', async () => {
  const f = c.nodes[0]!;
  const slot = await chatSlot(f.url, web, { file_type: 100, to_id: '1002', to_type: 1 });
  assert.equal(slot.upload_method, 'POST');
  assert.ok(slot.upload_url.startsWith(`${f.url}/`), slot.upload_url);
});
