// Readiness with PostgreSQL underneath: /readyz turns 503 naming the database while PostgreSQL
// is stopped (the store still answering), the storage errors of that time are counted under
// the database layer, and /readyz is 200 again once PostgreSQL is back, with no restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, type Creds } from '../helpers/client.ts';
import { parsePrometheus, valueOf } from '../helpers/prometheus.ts';
import { service, startCluster } from './cluster.ts';

async function readyzUntil(url: string, status: number): Promise<Record<string, string>> {
  let last = '';
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${url}/readyz`);
    const body = (await res.json()) as Record<string, string>;
    if (res.status === status) return body;
    last = `${res.status} ${JSON.stringify(body)}`;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`/readyz never answered ${status}; last: ${last}`);
}

const databaseErrors = async (url: string) =>
  valueOf(parsePrometheus(await (await fetch(`${url}/metrics`)).text()).samples, 'ferry_storage_errors_total', { layer: 'database' });

test('PostgreSQL stopped: /readyz answers 503 naming the database, and 200 once it is back', { timeout: 180_000 }, async () => {
  // A PostgreSQL of its own, so stopping it cannot disturb other tests.
  const pg = { FERRY_PG_DIR: '/tmp/ferry-pg-readiness', FERRY_PG_PORT: '54341' };
  const url = service('pg-start.sh', [], pg);
  let pgDown = false;
  const c = await startCluster(1, { FERRY_DATABASE_URL: url });
  const f = c.nodes[0]!;
  try {
    assert.deepEqual(await readyzUntil(f.url, 200), { status: 'ready', database: 'ok', store: 'ok' });
    const { appId } = await f.createApp('readiness');
    const u: Creds = { appId, token: await f.token(appId, '1001') };
    const errorsBefore = await databaseErrors(f.url);

    service('pg-stop.sh', [], pg);
    pgDown = true;
    const down = await readyzUntil(f.url, 503);
    assert.notEqual(down.database, 'ok');
    assert.equal(down.store, 'ok', 'the bucket still answers');
    assert.match(down.message ?? '', /database/);
    // A request that needs the database (the app is cached, the slot is not) is counted.
    const slot = await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '1002', to_type: 1 }, u);
    assert.equal(slot.body.code, 10009);
    assert.ok((await databaseErrors(f.url)) > errorsBefore, 'the storage error is counted under the database layer');
    assert.equal((await fetch(`${f.url}/healthz`)).status, 200, 'alive all along: nothing to restart');

    service('pg-start.sh', [], pg);
    pgDown = false;
    assert.deepEqual(await readyzUntil(f.url, 200), { status: 'ready', database: 'ok', store: 'ok' });
  } finally {
    if (pgDown) service('pg-start.sh', [], pg);
    await c.close();
    service('pg-stop.sh', ['--purge'], pg);
  }
});
