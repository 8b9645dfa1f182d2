// The verification caches over HTTP: a token, a file_sign or a blob URL that was just accepted
// (and so sits in the cache) does not make any other string acceptable. Tampered copies, the
// non-canonical spellings of the same signature, and a token past its exp are refused right
// after the genuine string was served. Unit level: test/unit/verified-cache.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chatSlot, putRaw } from '../helpers/client.ts';
import { accessToken, nonCanonicalVariants, nowSeconds, signOf } from '../helpers/jwt.ts';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';

let ferry: TestFerry;
let secret: string;
let token: string;
let downloadUrl: string;
const bytes = randomBytes(4096);

before(async () => {
  ferry = await startTestFerry({ FERRY_DOWNLOAD: 'redirect' });
  ({ secret } = await ferry.createApp('vc'));
  token = await ferry.token('vc', '1001');
  const slot = await chatSlot(ferry.url, { appId: 'vc', token }, { file_type: 100, to_id: '1002' });
  assert.equal((await putRaw(slot.upload_url, bytes)).body.code, 200);
  downloadUrl = slot.download_url;
});
after(() => ferry.close());

const withToken = (url: string, t: string) => `${url}&access-token=${t}&app_id=vc`;
const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

async function code(url: string): Promise<{ status: number; code: number | null }> {
  const res = await fetch(url, { redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, code: res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as { code: number }).code : null };
}

test('after a token was accepted, tampered and non-canonical copies of it are refused', async () => {
  assert.equal((await code(withToken(downloadUrl, token))).status, 302);
  assert.equal((await code(withToken(downloadUrl, token))).status, 302, 'again, from the cache');
  for (const bad of [flip(token, token.length - 3), flip(token, token.indexOf('.') + 5), ...nonCanonicalVariants(token)]) {
    assert.equal((await code(withToken(downloadUrl, bad))).code, 10008, `refused: ${bad.slice(-12)}`);
  }
  assert.equal((await code(withToken(downloadUrl, token))).status, 302, 'the genuine token still works');
});

test('after a sign was accepted, a tampered copy of it is refused', async () => {
  const sign = signOf(downloadUrl);
  assert.equal((await code(withToken(downloadUrl, token))).status, 302);
  const tampered = downloadUrl.replace(sign, flip(sign, sign.length - 4));
  assert.equal((await code(withToken(tampered, token))).code, 60001);
  const payloadTampered = downloadUrl.replace(sign, flip(sign, sign.indexOf('.') + 6));
  assert.equal((await code(withToken(payloadTampered, token))).code, 60001);
});

test('after a blob URL was served, a tampered copy is refused', async () => {
  const res = await fetch(withToken(downloadUrl, token), { redirect: 'manual' });
  const location = res.headers.get('location')!;
  const got = await fetch(location);
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(bytes));
  const cap = new URL(location).pathname.split('/')[3]!;
  const bad = location.replace(cap, flip(cap, cap.length - 2));
  const refused = await fetch(bad);
  const body = Buffer.from(await refused.arrayBuffer());
  assert.ok(!body.equals(bytes), 'a tampered capability gets no bytes');
  assert.equal((JSON.parse(body.toString('utf8')) as { code: number }).code, 60030);
});

test('a token accepted a moment before its exp is refused from its exp on', async () => {
  const iat = nowSeconds();
  const short = accessToken(secret, { app: 'vc', sub: '1001', iat, exp: iat + 2 });
  assert.equal((await code(withToken(downloadUrl, short))).status, 302);
  await new Promise((r) => setTimeout(r, (iat + 2) * 1000 - Date.now() + 50));
  assert.equal((await code(withToken(downloadUrl, short))).code, 10008, 'expired: refused though it was just cached');
});
