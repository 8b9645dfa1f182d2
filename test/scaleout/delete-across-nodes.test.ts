// Two nodes on one database and bucket: a URL deleted through one node is refused by the other
// at once, though the other had the file's record and bytes in its caches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, withCreds } from '../helpers/client.ts';
import { uploadChat } from '../helpers/jwt.ts';
import { onNode, startCluster } from './cluster.ts';

test('a delete on one node is refused on the other at once; the bytes leave the bucket', async () => {
  const c = await startCluster(2);
  try {
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    const { appId } = await a.createApp('two-nodes');
    const u1 = { appId, token: await a.token(appId, '1') };
    const u2 = { appId, token: await a.token(appId, '2') };
    const url = await uploadChat(a.url, u1, { to_id: '2' }, Buffer.from('small and cached on node b'));
    for (let i = 0; i < 3; i++) {
      const res = await fetch(onNode(withCreds(url, u2), b));
      assert.equal(res.status, 200);
      await res.arrayBuffer(); // node b now holds the record (and, where cached, the bytes)
    }
    const keysBefore = await c.inspect.objectKeys();
    const del = await a.admin('POST', `/admin/apps/${appId}/files/delete`, { urls: [url] });
    assert.equal(del.status, 200);
    const onB = await getJson(onNode(withCreds(url, u2), b));
    assert.equal(onB.body.code, 60050, 'node b refuses it without waiting for anything');
    assert.equal((await c.inspect.objectKeys()).length, keysBefore.length - 1, 'the object left the bucket');
  } finally {
    await c.close();
  }
});
