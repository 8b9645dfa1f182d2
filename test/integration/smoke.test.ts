// The shortest path through Ferry, as the web SDK walks it: slot, multipart upload, download.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { chatSlot, postMultipart, withCreds } from '../helpers/client.ts';

let f: TestFerry;
before(async () => {
  f = await startTestFerry();
});
after(() => f.close());

test('a chat file goes up by multipart POST and comes back byte for byte', async () => {
  const { appId } = await f.createApp('smoke');
  const token = await f.token(appId, '1001');
  const creds = { appId, token };
  const slot = await chatSlot(f.url, creds, { file_type: 100, to_id: '1002', to_type: 1 });
  assert.equal(slot.upload_method, 'POST');
  assert.deepEqual(slot.oss_body_param, {});
  const bytes = Buffer.from('hello ferry\n'.repeat(100));
  const up = await postMultipart(slot.upload_url, bytes, { filename: 'hello.txt' });
  assert.equal(up.status, 200);
  assert.deepEqual(up.body, { code: 200, message: null, data: true });
  const res = await fetch(withCreds(slot.download_url, creds));
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
});
