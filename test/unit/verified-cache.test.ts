// The verification caches (src/auth/verified-cache.ts) in front of access tokens, file_signs
// and blob capabilities: a string verified once is not verified again for a short while, and
// nothing else ever profits from that. A tampered, truncated or otherwise different string, the
// same string under other keys (another app, or the same app's changed keys), an expired token
// and a refusal are always checked in full. Over HTTP: test/integration/credentials.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifiedCache, TOKEN_CACHE_MS } from '../../src/auth/verified-cache.ts';
import { AppRegistry } from '../../src/auth/app-registry.ts';
import { authenticate } from '../../src/auth/credentials.ts';
import { mintSign, verifySign } from '../../src/auth/file-sign.ts';
import { Codes, FerryError, type Code } from '../../src/errors.ts';
import type { AppRecord, MetaStore } from '../../src/meta/meta-store.ts';
import { accessToken, nowSeconds } from '../helpers/jwt.ts';

function fixture() {
  const apps: Record<string, AppRecord> = {
    app1: { appId: 'app1', secret: 'secret-of-app1', signKey: 'sign-key-1', createdAt: 0 },
    twin: { appId: 'twin', secret: 'secret-of-app1', signKey: 'sign-key-1', createdAt: 0 },
  };
  // The keys version moves whenever the record does, as rotation and revocation move it in the store.
  const versionOf = (a: AppRecord) => [...JSON.stringify(a)].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7);
  const meta: Pick<MetaStore, 'getApp' | 'getAppKeyring' | 'getAppKeysVersion'> = {
    getApp: async (appId) => (apps[appId] ? { ...apps[appId] } : null),
    getAppKeysVersion: async (appId) => (apps[appId] ? versionOf(apps[appId]) : null),
    getAppKeyring: async (appId) => {
      const app = apps[appId];
      return app ? { app: { ...app }, version: versionOf(app), previousSecret: null, retiredSignKeys: [], revocations: [], slotRevocations: [] } : null;
    },
  };
  return { apps, registry: new AppRegistry(meta as MetaStore) };
}

async function refusedWith(p: Promise<unknown> | (() => unknown), code: Code, message?: RegExp): Promise<void> {
  const run = typeof p === 'function' ? Promise.resolve().then(p) : p;
  await assert.rejects(run, (err) => {
    assert.ok(err instanceof FerryError, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** the same string with one character of its signature changed */
function tamperSignature(jwt: string): string {
  const i = jwt.length - 5;
  return jwt.slice(0, i) + (jwt[i] === 'A' ? 'B' : 'A') + jwt.slice(i + 1);
}

/** one character of the payload changed (a different claim, same signature) */
function tamperPayload(jwt: string): string {
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const i = Math.floor(p.length / 2);
  return `${h}.${p.slice(0, i)}${p[i] === 'A' ? 'B' : 'A'}${p.slice(i + 1)}.${s}`;
}

describe('VerifiedCache', () => {
  test('a hit needs the exact string, the same keys object and an unexpired entry', () => {
    const cache = new VerifiedCache<{ n: number }>(1000);
    const keys = {};
    let runs = 0;
    const verify = () => ({ value: { n: ++runs } });
    assert.equal(cache.get(keys, 'abc', verify, 0).n, 1);
    assert.equal(cache.get(keys, 'abc', verify, 999).n, 1, 'within its lifetime: not verified again');
    assert.equal(cache.get(keys, 'abd', verify, 999).n, 2, 'another string: verified');
    assert.equal(cache.get({}, 'abc', verify, 999).n, 3, 'other keys (equal, not the same object): verified');
    assert.equal(cache.get(keys, 'abc', verify, 5000).n, 4, 'past the lifetime: verified again');
  });

  test('strings that end alike are told apart: only the exact one hits, and a miss leaves the entry', () => {
    const cache = new VerifiedCache<{ n: number }>(1000);
    const keys = {};
    let runs = 0;
    const verify = () => ({ value: { n: ++runs } });
    const mac = 'M'.repeat(43);
    assert.equal(cache.get(keys, `payload-a.${mac}`, verify, 0).n, 1);
    assert.equal(cache.get(keys, `payload-b.${mac}`, verify, 1).n, 2, 'same ending, another payload: verified');
    assert.equal(cache.get(keys, `payload-b.${mac}`, verify, 2).n, 2, 'the exact string again: a hit');
    assert.throws(() => cache.get(keys, `payload-c.${mac}`, () => { throw new Error('refused'); }, 3), /refused/);
    assert.equal(cache.get(keys, `payload-b.${mac}`, verify, 4).n, 2, 'a refused look-alike leaves the entry');
    assert.equal(cache.get(keys, mac.slice(-20), verify, 5).n, 3, 'a string shorter than the ending: its own entry');
  });

  test("never past the string's own expiry", () => {
    const cache = new VerifiedCache<{ n: number }>(60_000);
    let runs = 0;
    const keys = {};
    const verify = () => ({ value: { n: ++runs }, expiresAtMs: 100 });
    cache.get(keys, 't', verify, 0);
    assert.equal(cache.get(keys, 't', verify, 99).n, 1);
    assert.equal(cache.get(keys, 't', verify, 100).n, 2, 'at its expiry the string is verified again (and refused by verify)');
  });

  test('a refusal is never kept: the next call verifies again', () => {
    const cache = new VerifiedCache<{ ok: boolean }>(60_000);
    const keys = {};
    let calls = 0;
    assert.throws(() => cache.get(keys, 'x', () => { calls++; throw new Error('bad'); }));
    assert.throws(() => cache.get(keys, 'x', () => { calls++; throw new Error('bad'); }));
    assert.equal(calls, 2);
  });

  test('the bound holds: old entries are dropped, not kept forever', () => {
    const cache = new VerifiedCache<{ n: number }>(60_000, 3);
    const keys = {};
    let runs = 0;
    for (const s of ['a', 'b', 'c', 'd']) cache.get(keys, s, () => ({ value: { n: ++runs } }), 0);
    assert.equal(cache.get(keys, 'a', () => ({ value: { n: ++runs } }), 1).n, 5, 'the oldest was evicted');
  });
});

describe('access tokens through authenticate()', () => {
  test('after a token was accepted, a tampered copy of it is refused (signature or payload)', async () => {
    const { registry } = fixture();
    const token = accessToken('secret-of-app1', { app: 'app1', sub: '1001' });
    const q = (t: string) => ({ app_id: 'app1', 'access-token': t });
    assert.equal((await authenticate(registry, {}, q(token))).principal.userId, '1001');
    assert.equal((await authenticate(registry, {}, q(token))).principal.userId, '1001', 'served from the cache');
    await refusedWith(authenticate(registry, {}, q(tamperSignature(token))), Codes.BAD_TOKEN);
    await refusedWith(authenticate(registry, {}, q(tamperPayload(token))), Codes.BAD_TOKEN);
    await refusedWith(authenticate(registry, {}, q(token.slice(0, -1))), Codes.BAD_TOKEN);
  });

  test('a token accepted for its app is still refused under another app that shares the secret', async () => {
    const { registry } = fixture();
    const token = accessToken('secret-of-app1', { app: 'app1', sub: '1001' });
    await authenticate(registry, {}, { app_id: 'app1', 'access-token': token });
    await refusedWith(authenticate(registry, {}, { app_id: 'twin', 'access-token': token }), Codes.BAD_TOKEN, /another app/);
  });

  test("an app whose secret changed refuses the old token at once, though it was just accepted", async () => {
    const { apps, registry } = fixture();
    const token = accessToken('secret-of-app1', { app: 'app1', sub: '1001' });
    await authenticate(registry, {}, { app_id: 'app1', 'access-token': token });
    apps.app1!.secret = 'a-new-secret';
    registry.forget('app1');
    await refusedWith(authenticate(registry, {}, { app_id: 'app1', 'access-token': token }), Codes.BAD_TOKEN, /invalid/);
  });

  test('a token that expires is refused from its exp on, though it was just accepted', async () => {
    const { registry } = fixture();
    // exp one second ahead: accepted now, cached for at most the remaining time
    const iat = nowSeconds();
    const token = accessToken('secret-of-app1', { app: 'app1', sub: '1001', iat, exp: iat + 1 });
    await authenticate(registry, {}, { app_id: 'app1', 'access-token': token });
    await new Promise((r) => setTimeout(r, (iat + 1) * 1000 - Date.now() + 50));
    await refusedWith(authenticate(registry, {}, { app_id: 'app1', 'access-token': token }), Codes.BAD_TOKEN, /expired/);
  });

  test('tokens are kept at most a second', () => {
    assert.ok(TOKEN_CACHE_MS <= 1000);
  });
});

describe('file_signs through verifySign()', () => {
  test('after a sign was accepted, a tampered copy is refused, and so is the same sign under another app', async () => {
    const { registry } = fixture();
    const keys = (await registry.get('app1'))!;
    const sign = mintSign(keys, { fid: 'f1', from_id: '1', to_id: '2', to_type: 1, ft: 100 });
    assert.equal(verifySign(keys, sign).fid, 'f1');
    assert.equal(verifySign(keys, sign).fid, 'f1', 'served from the cache');
    await refusedWith(() => verifySign(keys, tamperSignature(sign)), Codes.BAD_FILE_SIGN);
    await refusedWith(() => verifySign(keys, tamperPayload(sign)), Codes.BAD_FILE_SIGN);
    // twin has the same sign key, but the sign names app1
    const twin = (await registry.get('twin'))!;
    await refusedWith(() => verifySign(twin, sign), Codes.BAD_FILE_SIGN);
  });

  test("an app whose sign key changed refuses its old signs at once", async () => {
    const { apps, registry } = fixture();
    const keys = (await registry.get('app1'))!;
    const sign = mintSign(keys, { fid: 'f1', from_id: '1', to_id: '2', to_type: 1, ft: 100 });
    verifySign(keys, sign);
    apps.app1!.signKey = 'another-sign-key';
    registry.forget('app1');
    const renewed = (await registry.get('app1'))!;
    await refusedWith(() => verifySign(renewed, sign), Codes.BAD_FILE_SIGN);
  });
});
