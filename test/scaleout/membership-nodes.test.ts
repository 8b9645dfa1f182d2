// Membership across two nodes on one PostgreSQL database: what one node learns (push, event,
// the IM server's answer) the other knows, and an event received by one node is in force on the
// other within one second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCreds, type Creds, type Envelope } from '../helpers/client.ts';
import { uploadChat } from '../helpers/jwt.ts';
import { sendEvents, startImServer } from '../helpers/im-server.ts';
import { onNode, startCluster } from './cluster.ts';
import { Codes } from '../../src/errors.ts';

async function code(url: string, creds: Creds): Promise<number> {
  const res = await fetch(withCreds(url, creds), { redirect: 'manual' });
  assert.ok(res.status < 500);
  if (res.headers.get('content-type')?.startsWith('application/json')) return ((await res.json()) as Envelope).code;
  await res.arrayBuffer();
  return 200;
}

test('two nodes: a push, an event and an IM answer on one node are in force on the other (events within a second)', async () => {
  const im = await startImServer();
  const c = await startCluster(2, { FERRY_MEMBERSHIP_URL: im.url });
  try {
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    const app = await a.createApp('mnodes');
    im.secrets.set(app.appId, app.secret);
    const cr = async (u: string): Promise<Creds> => ({ appId: app.appId, token: await a.token(app.appId, u) });
    await a.admin('PUT', `/admin/apps/${app.appId}/groups/900/members`, { members: [{ user_id: '1', role: 'owner' }, { user_id: '2' }] });
    const url = await uploadChat(a.url, await cr('1'), { to_id: '900', to_type: 2 });
    assert.equal(await code(onNode(url, b), await cr('2')), 200, 'the push made on A is known on B');

    // an event received by A: B refuses within one second
    const r = await sendEvents(a.url, app.appId, app.secret, { events: [{ type: 'member.left', group_id: '900', user_id: '2', at: Date.now() }] });
    assert.equal(r.status, 200);
    const sent = Date.now();
    while ((await code(onNode(url, b), await cr('2'))) === 200) {
      assert.ok(Date.now() - sent < 1000, 'in force on B within a second');
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(await code(onNode(url, b), await cr('2')), Codes.NO_PERMISSION);

    // the IM server's answer, asked by A, serves B without asking again
    im.join('900', '3');
    assert.equal(await code(url, await cr('3')), 200);
    assert.equal(await code(onNode(url, b), await cr('3')), 200);
    assert.equal(im.asksFor('900', '3'), 1);
  } finally {
    await c.close();
    await im.close();
  }
});
