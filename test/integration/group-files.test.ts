// Lanying's group shared files, in the order the web demo uses them: upload the bytes
// (file_type 200–203 to the group), register the download_url, list, get, rename, delete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { api, credHeaders, withCreds, type Creds, type Envelope } from '../helpers/client.ts';
import { uploadChat } from '../helpers/jwt.ts';

let f: TestFerry;
let appId: string;
const t: Record<string, Creds> = {};
const GROUP = '9007199254740993'; // above 2^53: must stay exact

before(async () => {
  f = await startTestFerry();
  ({ appId } = await f.createApp('gfiles'));
  for (const u of ['1', '2', '3', '4', '5']) t[u] = { appId, token: await f.token(appId, u) };
  await f.group(appId, GROUP, '1'); // owner 1
  await f.member(appId, GROUP, '2'); // uploader
  await f.member(appId, GROUP, '3'); // plain member
  await f.member(appId, GROUP, '4', 'admin');
  await f.group(appId, '600', '5');
});
after(() => f.close());

async function call<T = unknown>(method: string, path: string, creds: Creds, body?: string): Promise<Envelope<T>> {
  const res = await fetch(`${f.url}${path}`, {
    method,
    headers: { ...credHeaders({ ...creds, asHeaders: true }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body,
  });
  assert.equal(res.status, 200, 'Lanying answers business errors with HTTP 200');
  return (await res.json()) as Envelope<T>;
}

// Raw JSON text, so the int64 group id goes out as a JSON number, as the web SDK sends it.
const reg = (url: string, name: string, group = GROUP) => `{"group_id":${group},"name":${JSON.stringify(name)},"size":1,"type":200,"url":${JSON.stringify(url)}}`;

interface Dto {
  file_id: number;
  group_id: number | string;
  name: string;
  size: number;
  type: number;
  url: string;
  uploader: number | string;
}

test('the web demo flow: upload, register, list, get, rename, delete; the deleted URL is refused', async () => {
  const bytes = Buffer.from('meeting notes\n'.repeat(30));
  const url = await uploadChat(f.url, t['2']!, { to_id: GROUP, to_type: 2, file_type: 200 }, bytes);

  const up = await call<Dto>('POST', '/group/file/upload', t['2']!, reg(url, 'notes.txt'));
  assert.equal(up.code, 200, JSON.stringify(up));
  assert.equal(up.data.size, bytes.length, "size comes from Ferry's record, not the client");
  assert.equal(up.data.type, 200);
  assert.equal(up.data.url, url);
  assert.equal(up.data.group_id, GROUP, 'an id above 2^53 comes back exact');
  assert.equal(up.data.uploader, 2);
  assert.ok(Number.isSafeInteger(up.data.file_id) && up.data.file_id > 0, 'file_id is a number JavaScript keeps exact');

  const list = await api<Dto[]>(f.url, '/group/file/list', { group_id: GROUP }, t['3']!);
  assert.deepEqual(list.body.data.map((d) => d.file_id), [up.data.file_id]);
  const one = await api<Dto>(f.url, '/group/file', { group_id: GROUP, file_id: up.data.file_id }, t['3']!);
  assert.deepEqual(one.body.data, up.data);

  for (const method of ['POST', 'PUT']) {
    const rn = await call('' + method, '/group/file/update_name', t['2']!, `{"group_id":${GROUP},"file_id":${up.data.file_id},"name":"notes-${method}.txt"}`);
    assert.deepEqual([rn.code, rn.data], [200, true]);
  }
  assert.equal((await api<Dto>(f.url, '/group/file', { group_id: GROUP, file_id: up.data.file_id }, t['3']!)).body.data.name, 'notes-PUT.txt');

  // 20023: a plain member who did not upload it may not delete or rename it.
  const denied = await call<Array<{ result: string; reason: string }>>('POST', '/group/file/delete', t['3']!, `{"group_id":${GROUP},"file_list":[${up.data.file_id}]}`);
  assert.equal(denied.data[0]!.result, 'fail');
  assert.match(denied.data[0]!.reason, /^20023/);
  assert.equal((await call('POST', '/group/file/update_name', t['3']!, `{"group_id":${GROUP},"file_id":${up.data.file_id},"name":"x"}`)).code, 20023);

  const del = await call<Array<{ file_id: number; result: string }>>('DELETE', '/group/file/delete', t['4']!, `{"group_id":${GROUP},"file_list":[${up.data.file_id}, 12345]}`);
  assert.deepEqual(
    del.data.map((d) => [d.file_id, d.result]),
    [
      [up.data.file_id, 'success'],
      [12345, 'fail'],
    ],
    "the group's admin deletes it; an unknown id fails on its own",
  );
  const after = await api<Dto[]>(f.url, '/group/file/list', { group_id: GROUP }, t['3']!);
  assert.deepEqual(after.body.data, []);
  assert.equal((await api(f.url, '/group/file', { group_id: GROUP, file_id: up.data.file_id }, t['3']!)).body.code, 20022);
  const gone = await fetch(withCreds(url, t['3']!));
  assert.equal(((await gone.json()) as Envelope).code, 60050, "a deleted shared file's URL is refused");
});

test('bad registrations and bad names are refused with what is wrong', async () => {
  const url = await uploadChat(f.url, t['2']!, { to_id: GROUP, to_type: 2, file_type: 200 });
  const plain = await uploadChat(f.url, t['2']!, { to_id: GROUP, to_type: 2, file_type: 100 });
  const other = await uploadChat(f.url, t['5']!, { to_id: '600', to_type: 2, file_type: 200 });
  assert.equal((await call('POST', '/group/file/upload', t['2']!, reg(plain, 'a'))).code, 10002, 'not a shared kind');
  assert.equal((await call('POST', '/group/file/upload', t['5']!, reg(other, 'a', '600'))).code, 200);
  assert.equal((await call('POST', '/group/file/upload', t['2']!, reg(other, 'a'))).code, 10002, 'an upload of another group');
  assert.equal((await call('POST', '/group/file/upload', t['2']!, reg('http://x/nothing', 'a'))).code, 10002);
  assert.equal((await call('POST', '/group/file/upload', t['2']!, reg(url, ''))).code, 10002, 'empty name');
  assert.equal((await call('POST', '/group/file/upload', t['2']!, reg(url, 'n'.repeat(256)))).code, 10002, 'over-long name');
  const first = await call<Dto>('POST', '/group/file/upload', t['2']!, reg(url, 'once'));
  assert.equal(first.code, 200);
  assert.equal((await call('POST', '/group/file/upload', t['2']!, reg(url, 'twice'))).code, 10002, 'registered twice');
  assert.equal((await call('PUT', '/group/file/update_name', t['2']!, `{"group_id":${GROUP},"file_id":${first.data.file_id},"name":"   "}`)).code, 10002);
  assert.equal((await call('POST', '/group/file/upload', t['2']!, 'not json')).code, 10002);
  assert.equal((await call('POST', '/group/file/upload', t['2']!, reg(url, 'a', '424242'))).code, 20001, 'unknown group');
  assert.equal((await api(f.url, '/group/file/list', { group_id: GROUP }, t['5']!)).body.code, 20002, 'members only');
  assert.equal((await api(f.url, '/group/file', { group_id: GROUP, file_id: 1 }, t['3']!)).body.code, 20022);
  assert.equal((await api(f.url, '/group/file/list', { group_id: GROUP }, { appId })).body.code, 10003, 'credentials as on /file/*');
});
