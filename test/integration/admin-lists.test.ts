// The paged listings the console uses (GET /admin/apps, GET /admin/apps/:app_id/groups) over
// HTTP, and the same listings from the command line (`ferry app list`, `ferry groups`) against
// the data folder of a stopped Ferry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { buildDist } from '../helpers/build.ts';
import { runCli } from '../helpers/cli.ts';

let f: TestFerry;

before(async () => {
  f = await startTestFerry();
  for (const id of ['la-c', 'la-a', 'la-b']) await f.createApp(id);
  for (const g of ['30', '4', '200', '9223372036854775807']) await f.group('la-a', g, g === '4' ? '77' : '1');
});
after(() => f.close());

test('GET /admin/apps pages every app, never a secret; next is passed back as after', async () => {
  const first = await f.admin('GET', '/admin/apps?limit=2');
  assert.equal(first.status, 200);
  assert.deepEqual((first.body.apps as { app_id: string }[]).map((a) => a.app_id), ['la-a', 'la-b']);
  assert.equal(first.body.next, 'la-b');
  assert.deepEqual(Object.keys((first.body.apps as object[])[0]!).sort(), ['app_id', 'created_at']);
  const second = await f.admin('GET', `/admin/apps?limit=2&after=${first.body.next}`);
  assert.deepEqual((second.body.apps as { app_id: string }[]).map((a) => a.app_id), ['la-c']);
  assert.equal(second.body.next, null);
  assert.ok(!JSON.stringify([first.body, second.body]).includes('secret'));
});

test('both lists: a missing or wrong key is 401; a bad limit or after is 400 naming it', async () => {
  for (const p of ['/admin/apps', '/admin/apps/la-a/groups']) {
    for (const headers of [{}, { 'x-admin-key': 'wrong' }, { 'x-admin-key': `${f.adminKey}x` }] as Array<Record<string, string>>) {
      const res = await fetch(`${f.url}${p}`, { headers });
      assert.equal(res.status, 401, p);
      assert.deepEqual(await res.json(), { error: 'missing or wrong x-admin-key' });
    }
  }
  for (const q of ['limit=0', 'limit=501', 'limit=x', 'after=a%20b']) {
    const r = await f.admin('GET', `/admin/apps?${q}`);
    assert.equal(r.status, 400, q);
    assert.match(String(r.body.error), /^(limit|after)/, q);
  }
});

test('GET /admin/apps/:app_id/groups: numeric order, paging, owner filter, one group by id; unknown app 404', async () => {
  const all = await f.admin('GET', '/admin/apps/la-a/groups');
  assert.equal(all.status, 200);
  assert.deepEqual(all.body.groups, [
    { group_id: '4', owner_id: '77' },
    { group_id: '30', owner_id: '1' },
    { group_id: '200', owner_id: '1' },
    { group_id: '9223372036854775807', owner_id: '1' },
  ]);
  assert.equal(all.body.next, null);
  const page = await f.admin('GET', '/admin/apps/la-a/groups?limit=2&after=4');
  assert.deepEqual((page.body.groups as { group_id: string }[]).map((g) => g.group_id), ['30', '200']);
  assert.equal(page.body.next, '200');
  const owned = await f.admin('GET', '/admin/apps/la-a/groups?owner_id=77');
  assert.deepEqual(owned.body.groups, [{ group_id: '4', owner_id: '77' }]);
  const one = await f.admin('GET', '/admin/apps/la-a/groups?group_id=30');
  assert.deepEqual(one.body.groups, [{ group_id: '30', owner_id: '1' }]);
  const none = await f.admin('GET', '/admin/apps/la-a/groups?group_id=31');
  assert.deepEqual(none.body.groups, []);
  assert.equal((await f.admin('GET', '/admin/apps/la-b/groups')).body.next, null);
  const unknown = await f.admin('GET', '/admin/apps/nope/groups');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error, 'app nope not found');
  const bad = await f.admin('GET', '/admin/apps/la-a/groups?after=-1');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'after must be a positive 64-bit integer');
});

const cli = (args: string[]) => runCli(args, f.env);

test('ferry app list and ferry groups print the same listings', async () => {
  buildDist();
  const apps = await cli(['app', 'list', '--limit', '2', '--after', 'la-a']);
  assert.equal(apps.code, 0, apps.stderr);
  assert.deepEqual(JSON.parse(apps.stdout).apps.map((a: { app_id: string }) => a.app_id), ['la-b', 'la-c']);
  const groups = await cli(['groups', '--app', 'la-a', '--owner', '1', '--limit', '2']);
  assert.equal(groups.code, 0, groups.stderr);
  assert.deepEqual(JSON.parse(groups.stdout), { app_id: 'la-a', groups: [{ group_id: '30', owner_id: '1' }, { group_id: '200', owner_id: '1' }], next: '200' });
  const bad = await cli(['groups', '--app', 'nope']);
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /app nope not found/);
});
