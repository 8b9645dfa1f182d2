// authenticate() (src/auth/credentials.ts) on its own, over an in-memory app table: where
// credentials are read from and which place wins, which tokens are refused, and who an admin
// token may act as. Tokens are minted with node:crypto (test/helpers/jwt.ts), independently of
// Ferry's JWT library. The same over HTTP: test/integration/credentials.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticate, authenticateNow, type AuthOptions, type Caller, type Headers, type Principal, type Query } from '../../src/auth/credentials.ts';
import { AppRegistry, VERSION_CHECK_MS } from '../../src/auth/app-registry.ts';
import { Codes, FerryError, type Code } from '../../src/errors.ts';
import type { AppRecord, MetaStore } from '../../src/meta/meta-store.ts';
import { accessToken, decodeJwt, mintJwt, nowSeconds, withPayload } from '../helpers/jwt.ts';

const apps: Record<string, AppRecord> = {
  app1: { appId: 'app1', secret: 'secret-of-app1', signKey: 'k1', createdAt: 0 },
  app2: { appId: 'app2', secret: 'secret-of-app2', signKey: 'k2', createdAt: 0 },
  // shares app1's secret (an operator's copy-paste): the token's app claim still tells them apart
  twin: { appId: 'twin', secret: 'secret-of-app1', signKey: 'k3', createdAt: 0 },
};

function registry(): AppRegistry {
  // The registry reads apps with their keyrings (nothing rotated or revoked here) and versions only.
  const keyring = (appId: string) => {
    const app = apps[appId];
    return app ? { app, version: 0, previousSecret: null, retiredSignKeys: [], revocations: [], slotRevocations: [] } : null;
  };
  const meta: Pick<MetaStore, 'getAppKeyring' | 'getAppKeysVersion'> = {
    getAppKeyring: async (appId) => keyring(appId),
    getAppKeysVersion: async (appId) => (apps[appId] ? 0 : null),
  };
  return new AppRegistry(meta as MetaStore);
}

const userToken = (sub: string, app = 'app1') => accessToken(apps[app]!.secret, { app, sub, role: 1 });
const adminToken = (sub = '1', app = 'app1') => accessToken(apps[app]!.secret, { app, sub, role: 2 });

/** credentials in headers (server-side clients) */
const inHeaders = (token: string, appId = 'app1', more: Headers = {}): [Headers, Query] => [{ app_id: appId, 'access-token': token, ...more }, {}];
/** credentials in the query (browsers: the URL lands in <img src>) */
const inQuery = (token: string, appId = 'app1', more: Query = {}): [Headers, Query] => [{}, { app_id: appId, 'access-token': token, ...more }];

async function auth([headers, query]: [Headers, Query], options?: AuthOptions): Promise<Caller> {
  return authenticate(registry(), headers, query, options);
}

async function principal(creds: [Headers, Query], options?: AuthOptions): Promise<Principal> {
  return (await auth(creds, options)).principal;
}

async function refused(creds: [Headers, Query], code: Code, message?: RegExp, options?: AuthOptions): Promise<void> {
  await assert.rejects(auth(creds, options), (err) => {
    assert.ok(err instanceof FerryError, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('where credentials come from', () => {
  test('headers, query parameters, or app_id in one and the token in the other', async () => {
    const t = userToken('1001');
    const expected: Principal = { kind: 'user', appId: 'app1', userId: '1001' };
    assert.deepEqual(await principal(inHeaders(t)), expected);
    assert.deepEqual(await principal(inQuery(t)), expected);
    assert.deepEqual(await principal([{ app_id: 'app1' }, { 'access-token': t }]), expected);
    assert.deepEqual(await principal([{ 'access-token': t }, { app_id: 'app1' }]), expected);
  });

  test('the caller carries the keys of its app', async () => {
    const caller = await auth(inQuery(userToken('1001')));
    assert.equal(caller.keys.app.appId, 'app1');
  });

  test('a header wins over the query: a valid header token is not spoiled by a broken query copy, nor rescued by a valid one', async () => {
    const good = userToken('1001');
    assert.equal((await principal([{ app_id: 'app1', 'access-token': good }, { 'access-token': 'garbage' }])).userId, '1001');
    assert.equal((await principal([{ app_id: 'app1', 'access-token': good }, { 'access-token': userToken('1002') }])).userId, '1001');
    await refused([{ app_id: 'app1', 'access-token': 'garbage' }, { 'access-token': good }], Codes.BAD_TOKEN);
    // app_id likewise
    await refused([{ app_id: 'app2', 'access-token': good }, { app_id: 'app1' }], Codes.BAD_TOKEN);
  });

  test('an empty header is no credential and does not hide the one in the query', async () => {
    assert.equal((await principal([{ app_id: '', 'access-token': '' }, { app_id: 'app1', 'access-token': userToken('1001') }])).userId, '1001');
  });

  test('a key sent twice (uni-app): the first one counts', async () => {
    const good = userToken('1001');
    assert.equal((await principal([{}, { app_id: ['app1', 'app2'], 'access-token': [good, 'garbage'] }])).userId, '1001');
    await refused([{}, { app_id: 'app1', 'access-token': ['garbage', good] }], Codes.BAD_TOKEN);
  });
});

describe('app_id', () => {
  test('missing is 10002; malformed or unknown is 40000', async () => {
    const t = userToken('1001');
    await refused([{ 'access-token': t }, {}], Codes.BAD_PARAM, /app_id/);
    await refused([{ app_id: '' }, { 'access-token': t }], Codes.BAD_PARAM, /app_id/);
    for (const bad of ['no such app', 'x'.repeat(65), 'app1/../app2', 'nope']) await refused(inQuery(t, bad), Codes.APP_NOT_FOUND);
  });
});

describe('access-token', () => {
  test('missing or empty is 10003', async () => {
    await refused([{ app_id: 'app1' }, {}], Codes.NO_TOKEN);
    await refused(inQuery(''), Codes.NO_TOKEN);
    await refused([{ 'access-token': '' }, { app_id: 'app1' }], Codes.NO_TOKEN);
  });

  test('HS256 and HS512 tokens minted with the app secret are accepted', async () => {
    for (const alg of ['HS256', 'HS512'] as const) {
      const t = accessToken(apps.app1!.secret, { app: 'app1', sub: '1001' }, alg);
      assert.equal((await principal(inQuery(t))).userId, '1001', alg);
    }
  });

  test('forged, malformed and tampered tokens are 10008', async () => {
    const good = userToken('1001');
    const forged = {
      'not a JWT': 'garbage',
      'signed with another secret': accessToken('not-the-secret', { app: 'app1', sub: '1001' }),
      'alg none': accessToken(apps.app1!.secret, { app: 'app1', sub: '1001' }, 'none'),
      'HS384 (not an allowed algorithm)': accessToken(apps.app1!.secret, { app: 'app1', sub: '1001' }, 'HS384'),
      'a user token edited into an admin one': withPayload(good, { ...decodeJwt(good).payload, role: 2 }),
      'a payload that is not JSON': mintJwt(apps.app1!.secret, 'not json'),
    };
    for (const [what, t] of Object.entries(forged)) {
      await assert.rejects(auth(inQuery(t)), (err) => err instanceof FerryError && err.code === Codes.BAD_TOKEN, what);
    }
  });

  test('an expired token is 10008 and says it expired', async () => {
    const iat = nowSeconds() - 7200;
    await refused(inQuery(accessToken(apps.app1!.secret, { app: 'app1', sub: '1001', iat, exp: iat + 3600 })), Codes.BAD_TOKEN, /expired/);
    await refused(inQuery(accessToken(apps.app1!.secret, { app: 'app1', sub: '1', role: 2, iat, exp: iat + 3600 })), Codes.BAD_TOKEN, /expired/);
  });

  test("a token of another app is worthless: app2's token with app_id app1, and app1's with app_id twin (same secret)", async () => {
    await refused(inQuery(userToken('1001', 'app2'), 'app1'), Codes.BAD_TOKEN);
    await refused(inQuery(adminToken('1', 'app2'), 'app1'), Codes.BAD_TOKEN);
    await refused(inQuery(userToken('1001', 'app1'), 'twin'), Codes.BAD_TOKEN, /another app/);
    await refused(inQuery(adminToken('1', 'app1'), 'twin'), Codes.BAD_TOKEN, /another app/);
  });

  test('sub must be a positive int64; ids above 2^53 stay exact', async () => {
    for (const sub of ['9223372036854775807', '9007199254740993']) assert.equal((await principal(inQuery(userToken(sub)))).userId, sub);
    for (const sub of ['0', '-5', 'abc', '9223372036854775808', '1.5', '']) await refused(inQuery(userToken(sub)), Codes.BAD_TOKEN);
  });

  test('role: absent or 1 is a user, 2 an admin, anything else 10008', async () => {
    const mint = (role: unknown) => mintJwt(apps.app1!.secret, { app: 'app1', sub: '1001', role, iat: nowSeconds(), exp: nowSeconds() + 60 });
    const noRole = mintJwt(apps.app1!.secret, { app: 'app1', sub: '1001', iat: nowSeconds(), exp: nowSeconds() + 60 });
    assert.equal((await principal(inQuery(noRole))).kind, 'user');
    assert.equal((await principal(inQuery(mint(1)))).kind, 'user');
    assert.equal((await principal(inQuery(mint(2)))).kind, 'admin');
    for (const role of [0, 3, -1, 1.5, 'admin']) await refused(inQuery(mint(role)), Codes.BAD_TOKEN);
  });
});

describe('acting as someone else', () => {
  test("a user token naming itself as user_id is itself; naming another user or any group_id is refused (10010), never obeyed", async () => {
    const t = userToken('1001');
    assert.deepEqual(await principal(inQuery(t, 'app1', { user_id: '1001' })), { kind: 'user', appId: 'app1', userId: '1001' });
    await refused(inQuery(t, 'app1', { user_id: '1002' }), Codes.NO_PERMISSION);
    await refused(inQuery(t, 'app1', { group_id: '500' }), Codes.NO_PERMISSION);
    await refused(inHeaders(t, 'app1', { user_id: '1002' }), Codes.NO_PERMISSION);
    await refused(inHeaders(t, 'app1', { group_id: '500' }), Codes.NO_PERMISSION);
  });

  test('an admin token alone is the admin of its app', async () => {
    assert.deepEqual(await principal(inQuery(adminToken('7'))), { kind: 'admin', appId: 'app1', userId: '7' });
  });

  test('an admin token with user_id is that user, int64 ids exact, from the query or a header', async () => {
    const t = adminToken();
    assert.deepEqual(await principal(inQuery(t, 'app1', { user_id: '9007199254740993' })), { kind: 'user', appId: 'app1', userId: '9007199254740993' });
    assert.deepEqual(await principal(inHeaders(t, 'app1', { user_id: '1002' })), { kind: 'user', appId: 'app1', userId: '1002' });
    assert.deepEqual(await principal([{ app_id: 'app1', 'access-token': t, user_id: '1002' }, { user_id: '1003' }]), { kind: 'user', appId: 'app1', userId: '1002' }, 'the header wins');
    assert.deepEqual(await principal(inQuery(t, 'app1', { user_id: '+0001002' })), { kind: 'user', appId: 'app1', userId: '1002' }, 'ids are canonical');
  });

  test("an admin token with group_id is that group's admin", async () => {
    assert.deepEqual(await principal(inQuery(adminToken('7'), 'app1', { group_id: '9223372036854775807' })), {
      kind: 'group-admin',
      appId: 'app1',
      userId: '7',
      groupId: '9223372036854775807',
    });
    assert.deepEqual(await principal(inHeaders(adminToken('7'), 'app1', { group_id: '500' })), { kind: 'group-admin', appId: 'app1', userId: '7', groupId: '500' });
  });

  test('an admin token with both user_id and group_id, or a malformed one, is 10002', async () => {
    await refused(inQuery(adminToken(), 'app1', { user_id: '1002', group_id: '500' }), Codes.BAD_PARAM);
    for (const bad of ['abc', '0', '-1', '9223372036854775808', '1.5']) {
      await refused(inQuery(adminToken(), 'app1', { user_id: bad }), Codes.BAD_PARAM, /user_id/);
      await refused(inQuery(adminToken(), 'app1', { group_id: bad }), Codes.BAD_PARAM, /group_id/);
    }
  });

  test('an empty user_id or group_id is as if absent', async () => {
    assert.equal((await principal(inQuery(adminToken(), 'app1', { user_id: '', group_id: '' }))).kind, 'admin');
    assert.equal((await principal(inQuery(userToken('1001'), 'app1', { user_id: '', group_id: '' }))).kind, 'user');
  });

  test('where group_id names the target (the group avatar endpoint) it is no act-as: ignored for every token', async () => {
    const options: AuthOptions = { actAs: { userId: true, groupId: false } };
    assert.deepEqual(await principal(inQuery(userToken('1001'), 'app1', { group_id: '500' }), options), { kind: 'user', appId: 'app1', userId: '1001' });
    assert.deepEqual(await principal(inQuery(adminToken('7'), 'app1', { group_id: '500' }), options), { kind: 'admin', appId: 'app1', userId: '7' });
    assert.deepEqual(await principal(inQuery(adminToken('7'), 'app1', { group_id: '500', user_id: '1002' }), options), { kind: 'user', appId: 'app1', userId: '1002' });
  });

  test('where nothing is act-as (avatar downloads), user_id and group_id are ignored, even for user tokens', async () => {
    const options: AuthOptions = { actAs: { userId: false, groupId: false } };
    assert.deepEqual(await principal(inQuery(userToken('1001'), 'app1', { user_id: '1002', group_id: '500' }), options), { kind: 'user', appId: 'app1', userId: '1001' });
    assert.deepEqual(await principal(inQuery(adminToken('7'), 'app1', { user_id: '1002' }), options), { kind: 'admin', appId: 'app1', userId: '7' });
  });
});

describe('authenticateNow: authenticate() without the wait, once the app is known', () => {
  const outcome = (run: () => Caller | undefined): unknown => {
    try {
      return run()?.principal;
    } catch (err) {
      return err instanceof FerryError ? { code: err.code, message: err.message } : err;
    }
  };

  test('before the app is read it gives no answer; after, the same principal or refusal as authenticate()', async () => {
    const reg = registry();
    const cases: Array<[[Headers, Query], AuthOptions | undefined]> = [
      [inQuery(userToken('1001')), undefined],
      [inHeaders(adminToken('7'), 'app1', { user_id: '1002' }), undefined],
      [inQuery(adminToken('7'), 'app1', { group_id: '500' }), undefined],
      [inQuery(adminToken('7'), 'app1', { group_id: '500' }), { actAs: { userId: true, groupId: false } }],
      [inQuery(userToken('1001'), 'app1', { user_id: '1002' }), undefined],
      [inQuery(userToken('1001', 'app2')), undefined],
      [inQuery('not.a.token'), undefined],
      [[{ app_id: 'app1' }, {}], undefined],
    ];
    assert.equal(authenticateNow(reg, ...inQuery(userToken('1001'))), undefined, 'nothing known yet');
    await authenticate(reg, ...inQuery(userToken('1001')));
    for (const [[headers, query], options] of cases) {
      const slow = await authenticate(reg, headers, query, options).then(
        (c) => c.principal,
        (err: unknown) => (err instanceof FerryError ? { code: err.code, message: err.message } : err),
      );
      assert.deepEqual(outcome(() => authenticateNow(reg, headers, query, options)), slow, JSON.stringify(query));
    }
  });

  test('an app that does not exist is never known: authenticate() reads and refuses it (10005)', async () => {
    const reg = registry();
    await assert.rejects(authenticate(reg, ...inQuery(userToken('1001'), 'nosuchapp')), (err) => err instanceof FerryError && err.code === Codes.APP_NOT_FOUND);
    assert.equal(authenticateNow(reg, ...inQuery(userToken('1001'), 'nosuchapp')), undefined);
  });

  test('a forgotten app (its keys changed) is not known until it is read again', async () => {
    const reg = registry();
    await authenticate(reg, ...inQuery(userToken('1001')));
    assert.equal(authenticateNow(reg, ...inQuery(userToken('1001')))?.principal.userId, '1001');
    reg.forget('app1');
    assert.equal(authenticateNow(reg, ...inQuery(userToken('1001'))), undefined);
  });
});

test('the registry knows an app only while its keys need no version check: past it, get() must check again', async () => {
  const reg = registry();
  const keys = await reg.get('app1');
  const now = Date.now();
  assert.equal(reg.known('app1', now), keys);
  assert.equal(reg.known('app1', now + VERSION_CHECK_MS + 10), undefined, 'a key rotation on another node is seen within the check interval');
  assert.equal(reg.known('app2', now), undefined);
});
