// Looks at what a Ferry really stored, in whichever mode it runs: its database (SQLite file or
// PostgreSQL) and its objects (the data folder or the bucket). Tests check "nothing half-written
// is visible" through here, so the same checks hold in both modes.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { PostgresJSDialect } from 'kysely-postgres-js';
import postgres from 'postgres';
import { DeleteObjectCommand, GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Database } from '../../src/meta/sql/schema.ts';
import type { Config } from '../../src/config.ts';
import { s3ClientFor } from './storage-mode.ts';

export interface FileRow {
  id: string;
  slot_id: string;
  status: string;
  size: number | null;
  sha256: string | null;
  content_type: string | null;
  file_name: string | null;
  storage_key: string;
}

export interface Inspector {
  /** the file record of a slot (by the slot id at the end of upload_url) */
  fileBySlot(slotId: string): Promise<FileRow | undefined>;
  files(): Promise<FileRow[]>;
  setSlotExpiry(slotId: string, at: number): Promise<number>;
  /** every object key in the store */
  objectKeys(): Promise<string[]>;
  readObject(key: string): Promise<Buffer | null>;
  deleteObject(key: string): Promise<void>;
  /**
   * Bytes on their way in that are not an object yet: files in <data>/objects/.tmp, or multipart uploads
   * the bucket still holds open.
   */
  stagedUploads(): Promise<string[]>;
  close(): Promise<void>;
}

const numOrNull = (v: number | string | null) => (v === null ? null : Number(v));

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .filter((p) => !p.startsWith('.tmp/')); // staged uploads (objects/.tmp), not objects
}

export function inspect(dataDir: string, env: Record<string, string>): Inspector {
  const db = env.FERRY_DATABASE_URL
    ? new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: postgres(env.FERRY_DATABASE_URL, { max: 2, onnotice: () => {} }) }) })
    : new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(path.join(dataDir, 'ferry.sqlite')) }) });
  const bucket = env.FERRY_STORE?.slice('s3://'.length);
  let s3: S3Client | undefined;
  const client = () => (s3 ??= s3ClientFor(env));
  const objects = path.join(dataDir, 'objects');

  const toRow = (r: Omit<FileRow, 'size'> & { size: number | string | null }): FileRow => ({ ...r, size: numOrNull(r.size) });
  const cols = ['id', 'slot_id', 'status', 'size', 'sha256', 'content_type', 'file_name', 'storage_key'] as const;

  return {
    async fileBySlot(slotId) {
      const r = await db.selectFrom('files').select(cols).where('slot_id', '=', slotId).executeTakeFirst();
      return r ? toRow(r) : undefined;
    },
    async files() {
      return (await db.selectFrom('files').select(cols).execute()).map(toRow);
    },
    async setSlotExpiry(slotId, at) {
      const res = await db.updateTable('files').set({ slot_expires_at: at }).where('slot_id', '=', slotId).executeTakeFirst();
      return Number(res.numUpdatedRows);
    },
    async objectKeys() {
      if (!bucket) return filesUnder(objects).sort();
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const res = await client().send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        for (const o of res.Contents ?? []) keys.push(o.Key!);
        token = res.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
    async readObject(key) {
      if (!bucket) {
        const p = path.join(objects, key);
        return fs.existsSync(p) ? fs.readFileSync(p) : null;
      }
      try {
        const res = await client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await res.Body!.transformToByteArray());
      } catch (err) {
        if ((err as Error).name === 'NoSuchKey') return null;
        throw err;
      }
    },
    async deleteObject(key) {
      if (!bucket) fs.rmSync(path.join(objects, key), { force: true });
      else await client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async stagedUploads() {
      if (!bucket) return filesUnder(path.join(objects, '.tmp'));
      const res = await client().send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return (res.Uploads ?? []).map((u) => u.Key!);
    },
    async close() {
      await db.destroy();
      s3?.destroy();
    },
  };
}

/** An inspector on the very stores a running test Ferry uses, whichever mode it runs in. */
export function inspectFerry(f: { dataDir: string; ferry: { services: { config: Config } } }): Inspector {
  const c = f.ferry.services.config;
  const env: Record<string, string> = {};
  if (c.databaseUrl) env.FERRY_DATABASE_URL = c.databaseUrl;
  if (c.store) {
    env.FERRY_STORE = c.store;
    env.FERRY_S3_REGION = c.s3.region;
    env.FERRY_S3_FORCE_PATH_STYLE = String(c.s3.forcePathStyle);
    if (c.s3.endpoint) env.FERRY_S3_ENDPOINT = c.s3.endpoint;
    if (c.s3.accessKey) env.FERRY_S3_ACCESS_KEY = c.s3.accessKey;
    if (c.s3.secretKey) env.FERRY_S3_SECRET_KEY = c.s3.secretKey;
  }
  return inspect(f.dataDir, env);
}
