// Key rotation and token revocation over HTTP (POST /admin/apps/:app_id/secret/rotate and
// /tokens/revoke): the replaced secret works for its grace period only; every sign already
// handed out keeps working (its kid names its key), new signs carry the new kid; Ferry's own
// blob URLs survive one rotation; a revoked user's older tokens are refused, newer ones work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { getJson, withCreds, type Creds } from '../helpers/client.ts';
import { accessToken, decodeJwt, mintJwt, nowSeconds, signOf, uploadChat } from '../helpers/jwt.ts';

let f: TestFerry;
before(async () => {
  f = await startTestFerry();
});
after(() => f.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Download the file of a download_url: its bytes as text, or the envelope's code. */
async function read(downloadUrl: string, creds: Creds): Promise<{ code: number; text?: string }> {
  const res = await fetch(withCreds(downloadUrl, creds));
  const text = await res.text();
  if (res.headers.get('content-type')?.startsWith('application/json')) return { code: (JSON.parse(text) as { code: number }).code };
  assert.equal(res.status, 200);
  return { code: 200, text };
}

const kidOf = (downloadUrl: string) => decodeJwt(signOf(downloadUrl)).header.kid;

test('rotation: the old secret works for the grace period only; old signs keep working, new signs carry the new kid', async () => {
  const { appId, secret: oldSecret } = await f.createApp('rotate-me');
  const oldToken = await f.token(appId, '1001');
  const oldCreds = { appId, token: oldToken };
  const oldUrl = await uploadChat(f.url, oldCreds, { to_id: '1002' }, Buffer.from('before the rotation'));
  const oldKid = kidOf(oldUrl);
  assert.equal(typeof oldKid, 'string', 'a file_sign names its key in the JWT header (kid)');

  const r = await f.admin('POST', `/admin/apps/${appId}/secret/rotate`, { grace_s: 2 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const rotated = r.body as { app_id: string; secret: string; sign_kid: string; previous_secret_valid_until: number };
  assert.equal(rotated.app_id, appId);
  assert.notEqual(rotated.secret, oldSecret);
  assert.ok(rotated.secret.length >= 32);
  assert.notEqual(rotated.sign_kid, oldKid);
  assert.ok(Math.abs(rotated.previous_secret_valid_until - (Date.now() + 2000)) < 1500);

  // During the grace period both secrets work.
  const newToken = accessToken(rotated.secret, { app: appId, sub: '1001' });
  const newCreds = { appId, token: newToken };
  assert.deepEqual(await read(oldUrl, oldCreds), { code: 200, text: 'before the rotation' });
  assert.deepEqual(await read(oldUrl, newCreds), { code: 200, text: 'before the rotation' });
  const newUrl = await uploadChat(f.url, newCreds, { to_id: '1002' }, Buffer.from('after the rotation'));
  assert.equal(kidOf(newUrl), rotated.sign_kid, 'new signs use the new key');
  // The admin API mints with the new secret.
  const minted = await f.token(appId, '1002');
  assert.deepEqual(await read(newUrl, { appId, token: minted }), { code: 200, text: 'after the rotation' });

  await sleep(2300);
  // After it, the old secret's tokens are refused, whatever their exp…
  assert.equal((await read(oldUrl, oldCreds)).code, 10008);
  assert.equal((await read(oldUrl, { appId, token: accessToken(oldSecret, { app: appId, sub: '1001' }) })).code, 10008);
  // …and the sign made before the rotation still opens its file.
  assert.deepEqual(await read(oldUrl, newCreds), { code: 200, text: 'before the rotation' });
  assert.deepEqual(await read(newUrl, newCreds), { code: 200, text: 'after the rotation' });

  // A second rotation drops the first secret's successor after its own grace (0 here: at once),
  // and every sign ever made still works.
  const again = await f.admin('POST', `/admin/apps/${appId}/secret/rotate`, { grace_s: 0 });
  assert.equal(again.status, 200);
  assert.equal((await read(oldUrl, newCreds)).code, 10008);
  const third = { appId, token: accessToken((again.body as { secret: string }).secret, { app: appId, sub: '1001' }) };
  assert.deepEqual(await read(oldUrl, third), { code: 200, text: 'before the rotation' });
  assert.deepEqual(await read(newUrl, third), { code: 200, text: 'after the rotation' });
});

test('a forged kid, or a sign made with no kid by someone without the key, is refused', async () => {
  const { appId } = await f.createApp('kid-forgery');
  const creds = { appId, token: await f.token(appId, '1001') };
  const url = await uploadChat(f.url, creds, { to_id: '1002' });
  const claims = decodeJwt(signOf(url)).payload;
  const forged = mintJwt('not the sign key', claims);
  const base = url.slice(0, url.indexOf('file_sign=') + 'file_sign='.length);
  assert.equal((await read(`${base}${forged}`, creds)).code, 60001);
  // The real signature under a header naming another key id.
  const [, payload, sig] = signOf(url).split('.');
  const otherKid = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'AAAAAAAAAAA' })).toString('base64url');
  assert.equal((await read(`${base}${otherKid}.${payload}.${sig}`, creds)).code, 60001);
});

test('signs made before key ids (no kid) keep working after a rotation', async () => {
  const { appId } = await f.createApp('legacy-signs');
  const creds = { appId, token: await f.token(appId, '1001') };
  const url = await uploadChat(f.url, creds, { to_id: '1002' }, Buffer.from('legacy'));
  const app = await f.ferry.services.meta.getApp(appId);
  assert.ok(app);
  // What an older Ferry handed out: the same claims, HS256 under the sign key, no kid.
  const legacy = mintJwt(app.signKey, decodeJwt(signOf(url)).payload);
  assert.equal(decodeJwt(legacy).header.kid, undefined);
  const legacyUrl = `${url.slice(0, url.indexOf('file_sign=') + 'file_sign='.length)}${legacy}`;
  assert.deepEqual(await read(legacyUrl, creds), { code: 200, text: 'legacy' });
  const r = await f.admin('POST', `/admin/apps/${appId}/secret/rotate`, { grace_s: 60 });
  assert.equal(r.status, 200);
  assert.deepEqual(await read(legacyUrl, creds), { code: 200, text: 'legacy' });
});

test("Ferry's own blob URLs survive one rotation, not two", async (t) => {
  const { appId } = await f.createApp('blob-rotation');
  const creds = { appId, token: await f.token(appId, '1001') };
  const url = await uploadChat(f.url, creds, { to_id: '1002' }, Buffer.from('blob'));
  const res = await fetch(withCreds(url, creds), { redirect: 'manual' });
  const location = res.headers.get('location') ?? '';
  if (!location.includes('/file/blob/')) {
    // The scale-out pass redirects to the bucket's presigned URLs, which Ferry's keys do not sign.
    t.diagnostic(`downloads redirect to ${new URL(location).host}, not to Ferry's blob URLs: nothing to check here`);
    assert.equal(res.status, 302);
    return;
  }
  const blob = async () => {
    const r = await fetch(location);
    const text = await r.text();
    return r.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as { code: number }).code : text;
  };
  assert.equal(await blob(), 'blob');
  assert.equal((await f.admin('POST', `/admin/apps/${appId}/secret/rotate`, { grace_s: 0 })).status, 200);
  assert.equal(await blob(), 'blob', 'made with the key just replaced');
  assert.equal((await f.admin('POST', `/admin/apps/${appId}/secret/rotate`, { grace_s: 0 })).status, 200);
  assert.equal(await blob(), 60030, 'made with a key replaced twice');
});

test('revocation: tokens issued before the moment are refused, later ones and other users work', async () => {
  const { appId, secret } = await f.createApp('revoke-me');
  const a = { appId, token: await f.token(appId, '2001') };
  const b = { appId, token: await f.token(appId, '2002') };
  const url = await uploadChat(f.url, a, { to_id: '2002' }, Buffer.from('revocable'));
  assert.equal((await read(url, a)).code, 200);

  const r = await f.admin('POST', `/admin/apps/${appId}/tokens/revoke`, { user_id: '2001' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.user_id, '2001');
  assert.ok(Math.abs((r.body.before as number) - Date.now()) < 2000);

  const refused = await getJson(withCreds(url, a));
  assert.equal(refused.body.code, 10008);
  assert.match(refused.body.message ?? '', /revoked/);
  assert.equal((await read(url, b)).code, 200, 'another user of the app is not touched');
  // A token without iat cannot show it is newer than the revocation.
  const noIat = mintJwt(secret, { app: appId, sub: '2001', role: 1, exp: nowSeconds() + 600 });
  assert.equal((await read(url, { appId, token: noIat })).code, 10008);

  // iat has one-second resolution: a token of the next second works.
  await sleep(1000 - (Date.now() % 1000) + 50);
  assert.deepEqual(await read(url, { appId, token: await f.token(appId, '2001') }), { code: 200, text: 'revocable' });

  // An explicit moment in the past leaves tokens issued after it alone.
  const earlier = Date.now() - 60_000;
  assert.equal((await f.admin('POST', `/admin/apps/${appId}/tokens/revoke`, { user_id: 2002, before: earlier })).status, 200);
  assert.equal((await read(url, b)).code, 200);
});

test('bad input: unknown app 404, before in the future 400, bad values 400, no admin key 401', async () => {
  const { appId } = await f.createApp('ops-bad-input');
  const cases: [string, string, unknown, number, RegExp][] = [
    ['rotate on an unknown app', '/admin/apps/nope/secret/rotate', {}, 404, /app nope not found/],
    ['revoke on an unknown app', '/admin/apps/nope/tokens/revoke', { user_id: '1' }, 404, /app nope not found/],
    ['before in the future', `/admin/apps/${appId}/tokens/revoke`, { user_id: '1', before: Date.now() + 60_000 }, 400, /future/],
    ['before not a number', `/admin/apps/${appId}/tokens/revoke`, { user_id: '1', before: 'yesterday' }, 400, /before/],
    ['user_id missing', `/admin/apps/${appId}/tokens/revoke`, {}, 400, /user_id/],
    ['user_id not an id', `/admin/apps/${appId}/tokens/revoke`, { user_id: 'alice' }, 400, /user_id/],
    ['negative grace', `/admin/apps/${appId}/secret/rotate`, { grace_s: -1 }, 400, /grace_s/],
    ['grace beyond 30 days', `/admin/apps/${appId}/secret/rotate`, { grace_s: 31 * 86400 }, 400, /grace_s/],
  ];
  for (const [name, path, body, status, message] of cases) {
    const r = await f.admin('POST', path, body);
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
    assert.match(String(r.body.error), message, name);
  }
  const noKey = await fetch(`${f.url}/admin/apps/${appId}/secret/rotate`, { method: 'POST' });
  assert.equal(noKey.status, 401);
  // Nothing changed: the app's tokens still work.
  const creds = { appId, token: await f.token(appId, '1') };
  assert.equal((await read(await uploadChat(f.url, creds, { to_id: '2' }), creds)).code, 200);
});
