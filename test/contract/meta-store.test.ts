// Runs the MetaStore contract against the metadata store of the current test pass: SQLite in
// the embedded pass, PostgreSQL in the scale-out pass (a fresh database per case).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteMetaStore } from '../../src/meta/sql/sqlite.ts';
import { openPostgresMetaStore } from '../../src/meta/sql/postgres.ts';
import { isScaleOut, modeEnv, provision } from '../helpers/storage-mode.ts';
import { metaStoreContract } from './meta-store.contract.ts';

const env = modeEnv();

if (isScaleOut(env)) {
  const url = env.FERRY_DATABASE_URL;
  assert.ok(url, 'the scale-out pass needs FERRY_TEST_ENV_FERRY_DATABASE_URL');
  metaStoreContract('PostgreSQL', async () => {
    const db = await provision({ FERRY_DATABASE_URL: url });
    const store = openPostgresMetaStore(db.env.FERRY_DATABASE_URL!);
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      await db.release();
      throw err;
    }
    return {
      store,
      async dispose() {
        await store.close();
        await db.release();
      },
    };
  });
} else {
  metaStoreContract('SQLite', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-meta-contract-'));
    const store = openSqliteMetaStore(dir);
    await store.migrate();
    return {
      store,
      async dispose() {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
