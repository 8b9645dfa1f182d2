// Rotation and revocation reach every node: node B has the app's keys cached (it just served the
// token) when node A rotates or revokes, and refuses within its version-check window (about a
// second, src/auth/app-registry.ts VERSION_CHECK_MS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, withCreds } from '../helpers/client.ts';
import { accessToken, uploadChat } from '../helpers/jwt.ts';
import { onNode, startCluster } from './cluster.ts';

/** Poll until check() is true; how long it took. */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    assert.ok(Date.now() - started < limitMs, `not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a revocation on node A is refused on node B within about a second; a rotation ends the old secret on B after its grace', async () => {
  const c = await startCluster(2);
  try {
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];
    const { appId, secret } = await a.createApp('keys-two-nodes');
    const u1 = { appId, token: await a.token(appId, '1001') };
    const u2 = { appId, token: await a.token(appId, '1002') };
    const url = await uploadChat(a.url, u1, { to_id: '1002' });
    const codeOn = async (creds: { appId: string; token: string }) => {
      const res = await fetch(onNode(withCreds(url, creds), b), { redirect: 'manual' });
      const text = await res.text();
      if (res.status === 302 || !res.headers.get('content-type')?.startsWith('application/json')) return res.status === 302 ? 200 : res.status;
      return (JSON.parse(text) as { code: number }).code;
    };
    assert.equal(await codeOn(u1), 200, 'node B has the app cached now');

    const r = await a.admin('POST', `/admin/apps/${appId}/tokens/revoke`, { user_id: '1001' });
    assert.equal(r.status, 200);
    const took = await within(2500, async () => (await codeOn(u1)) === 10008);
    assert.ok(took <= 1500, `refused on node B after ${took} ms`);
    assert.equal(await codeOn(u2), 200);

    const rotated = await a.admin('POST', `/admin/apps/${appId}/secret/rotate`, { grace_s: 1 });
    assert.equal(rotated.status, 200);
    const fresh = { appId, token: accessToken((rotated.body as { secret: string }).secret, { app: appId, sub: '1002' }) };
    await within(1500, async () => (await codeOn(fresh)) === 200);
    // The old secret: accepted during the grace period, refused after it on node B as well.
    await within(3000, async () => (await codeOn({ appId, token: accessToken(secret, { app: appId, sub: '1002' }) })) === 10008);
    assert.equal(await codeOn(fresh), 200, 'the sign made before the rotation still opens the file');
    const body = await getJson(onNode(withCreds(url, u2), b));
    assert.equal(body.body.code, 10008);
  } finally {
    await c.close();
  }
});
