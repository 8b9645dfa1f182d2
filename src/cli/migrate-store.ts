// `ferry migrate-store --from DATA_DIR`: moves an embedded Ferry (SQLite + objects in its data
// folder) into the configured scale-out stores (FERRY_DATABASE_URL + FERRY_STORE). Apps, groups
// and members first; then each ready file's bytes, read back from the bucket and checked
// against the recorded SHA-256, and only then its record, so a node already serving from the
// new stores never sees a record without its bytes. Safe to run again: what is already there is
// verified and kept. Upload slots that never became files are not moved.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Selectable } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.ts';
import { openByteStore } from '../bytes/open.ts';
import { LocalByteStore } from '../bytes/local/local-store.ts';
import type { ByteStore } from '../bytes/byte-store.ts';
import { openMetaStore } from '../meta/open.ts';
import { openSqliteMetaStore } from '../meta/sql/sqlite.ts';
import type { Database, DerivativesTable, FilesTable } from '../meta/sql/schema.ts';

export class MigrateError extends Error {}

interface MigrateReport {
  apps: number;
  groups: number;
  members: number;
  files: { copied: number; alreadyThere: number };
  derivatives: { copied: number; alreadyThere: number };
  bytes: number;
  /** objects whose bytes did not match their recorded SHA-256; their records were not moved */
  mismatched: string[];
}

const PAGE = 500;

const numOrNull = (v: number | string | null) => (v === null ? null : Number(v));

/** SQLite hands bigint columns back as numbers already; the types allow strings (PostgreSQL). */
function fileRow(row: Selectable<FilesTable>) {
  return {
    ...row,
    slot_expires_at: Number(row.slot_expires_at),
    size: numOrNull(row.size),
    created_at: Number(row.created_at),
    completed_at: numOrNull(row.completed_at),
    claimed_at: numOrNull(row.claimed_at),
    duration_ms: numOrNull(row.duration_ms),
  };
}

async function sha256Of(stream: NodeJS.ReadableStream): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Put one object into the target (unless it is there) and prove the target holds the right bytes. */
async function copyObject(from: ByteStore, to: ByteStore, key: string, sha256: string, contentType: string): Promise<'copied' | 'there' | 'mismatch'> {
  let there = false;
  if (to.head) there = (await to.head(key)) !== null;
  if (!there) {
    const source = await sha256Of(await from.read(key));
    // The source itself is damaged: moving it would make a bad file look good.
    if (source.sha256 !== sha256) return 'mismatch';
    const staged = await to.stage(key, await from.read(key), contentType);
    await staged.commit();
  }
  const landed = await sha256Of(await to.read(key));
  if (landed.sha256 !== sha256) {
    if (!there) await to.delete(key);
    return 'mismatch';
  }
  return there ? 'there' : 'copied';
}

export async function migrateStore(fromDir: string, config: Config, progress: (msg: string) => void = () => {}): Promise<MigrateReport> {
  if (!config.databaseUrl || !config.store) {
    throw new MigrateError('migrate-store moves a data folder into PostgreSQL and S3: set FERRY_DATABASE_URL and FERRY_STORE (with the FERRY_S3_* settings) first');
  }
  const dir = path.resolve(fromDir);
  const sqliteFile = path.join(dir, 'ferry.sqlite');
  if (!fs.existsSync(sqliteFile)) throw new MigrateError(`${sqliteFile} does not exist: --from must be an embedded Ferry's data folder`);

  // Bring the source schema up to date so every column the target has is there to read.
  const upgrade = openSqliteMetaStore(dir);
  await upgrade.migrate();
  await upgrade.close();

  const target = await openMetaStore(config);
  await target.close();
  const src = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(sqliteFile, { readonly: true }) }) });
  const dst = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: config.databaseUrl, max: 2 }) }) });
  const fromBytes = new LocalByteStore(dir);
  const toBytes = await openByteStore(config);
  const report: MigrateReport = { apps: 0, groups: 0, members: 0, files: { copied: 0, alreadyThere: 0 }, derivatives: { copied: 0, alreadyThere: 0 }, bytes: 0, mismatched: [] };
  try {
    for (const row of await src.selectFrom('apps').selectAll().execute()) {
      await dst.insertInto('apps').values({ ...row, created_at: Number(row.created_at) }).onConflict((oc) => oc.column('app_id').doNothing()).execute();
      report.apps++;
    }
    for (const row of await src.selectFrom('groups').selectAll().execute()) {
      await dst.insertInto('groups').values({ ...row, created_at: Number(row.created_at) }).onConflict((oc) => oc.columns(['app_id', 'group_id']).doNothing()).execute();
      report.groups++;
    }
    for (const row of await src.selectFrom('group_members').selectAll().execute()) {
      await dst.insertInto('group_members').values(row).onConflict((oc) => oc.columns(['app_id', 'group_id', 'user_id']).doNothing()).execute();
      report.members++;
    }
    progress(`${report.apps} apps, ${report.groups} groups, ${report.members} members`);

    for (let last = ''; ; ) {
      const page: Selectable<FilesTable>[] = await src.selectFrom('files').selectAll().where('status', '=', 'ready').where('id', '>', last).orderBy('id').limit(PAGE).execute();
      for (const row of page) {
        const outcome = await copyObject(fromBytes, toBytes, row.storage_key, row.sha256!, row.content_type!);
        if (outcome === 'mismatch') {
          report.mismatched.push(row.storage_key);
          continue;
        }
        await dst.insertInto('files').values(fileRow(row)).onConflict((oc) => oc.column('id').doNothing()).execute();
        report.files[outcome === 'copied' ? 'copied' : 'alreadyThere']++;
        if (outcome === 'copied') report.bytes += Number(row.size);
      }
      if (page.length < PAGE) break;
      last = page[page.length - 1]!.id;
      progress(`${report.files.copied + report.files.alreadyThere} files`);
    }

    const derivatives: Selectable<DerivativesTable>[] = await src.selectFrom('derivatives').selectAll().execute();
    for (const row of derivatives) {
      const outcome = await copyObject(fromBytes, toBytes, row.storage_key, row.sha256, row.content_type);
      if (outcome === 'mismatch') {
        report.mismatched.push(row.storage_key);
        continue;
      }
      await dst.insertInto('derivatives').values({ ...row, size: Number(row.size), created_at: Number(row.created_at) }).onConflict((oc) => oc.columns(['file_id', 'variant']).doNothing()).execute();
      report.derivatives[outcome === 'copied' ? 'copied' : 'alreadyThere']++;
      if (outcome === 'copied') report.bytes += Number(row.size);
    }
    return report;
  } finally {
    await src.destroy();
    await dst.destroy();
    await toBytes.close();
  }
}
