// `ferry migrate-store --from DATA_DIR`: moves an embedded Ferry (SQLite + objects in its data
// folder) into the configured scale-out stores (FERRY_DATABASE_URL + FERRY_STORE). Apps, groups
// and members first (with the membership state: push versions, history visibility, dismissals,
// join times, each app's membership_url, the event clock and the recorded events; the IM
// server's remembered answers are a cache and stay behind); then each ready file's bytes, read back from the bucket and checked
// against the recorded SHA-256, and only then its record, so a node already serving from the
// new stores never sees a record without its bytes; last the lifecycle tables as they are (app
// settings, the quarantine list, usage, group shared files, the audit log). Safe to run again:
// what is already there is verified and kept. Upload slots that never became files are not moved.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../config.ts';
import { openByteStore } from '../bytes/open.ts';
import type { ByteStore } from '../bytes/byte-store.ts';
import { openMetaStore } from '../meta/open.ts';
import { LIFECYCLE_TABLES, type LifecycleTable } from '../meta/meta-store.ts';

export class MigrateError extends Error {}

interface MigrateReport {
  apps: number;
  groups: number;
  members: number;
  /** membership records besides groups and members: app URLs, group states, clock entries, recorded events */
  membership: { urls: number; groupStates: number; clock: number; events: number };
  files: { copied: number; alreadyThere: number };
  derivatives: { copied: number; alreadyThere: number };
  bytes: number;
  /** objects whose bytes did not match their recorded SHA-256; their records were not moved */
  mismatched: string[];
  /** rows moved per lifecycle table: app settings, quarantine list, usage, group shared files, audit log */
  lifecycle: Record<LifecycleTable, number>;
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
  const there = (await to.head(key)) !== null;
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

export async function migrateStore(fromDir: string, config: Readonly<Config>, progress: (msg: string) => void = () => {}): Promise<MigrateReport> {
  if (!config.databaseUrl || !config.store) {
    throw new MigrateError('migrate-store moves a data folder into PostgreSQL and S3: set FERRY_DATABASE_URL and FERRY_STORE (with the FERRY_S3_* settings) first');
  }
  const dir = path.resolve(fromDir);
  const sqliteFile = path.join(dir, 'ferry.sqlite');
  if (!fs.existsSync(sqliteFile)) throw new MigrateError(`${sqliteFile} does not exist: --from must be an embedded Ferry's data folder`);

  // Both sides through the seams: the source is what an embedded Ferry on that folder would
  // open (its schema brought up to date, so every field the target has is there to read).
  const source = loadConfig({ FERRY_DATA_DIR: dir, FERRY_SMALL_FILE_CACHE: '0' });
  const src = await openMetaStore(source);
  const fromBytes = await openByteStore(source);
  const dst = await openMetaStore(config);
  const toBytes = await openByteStore(config);
  const report: MigrateReport = { apps: 0, groups: 0, members: 0, membership: { urls: 0, groupStates: 0, clock: 0, events: 0 }, files: { copied: 0, alreadyThere: 0 }, derivatives: { copied: 0, alreadyThere: 0 }, bytes: 0, mismatched: [], lifecycle: Object.fromEntries(Object.keys(LIFECYCLE_TABLES).map((t) => [t, 0])) as Record<LifecycleTable, number> };
  try {
    let announced = false;
    for await (const record of src.exportRecords()) {
      switch (record.kind) {
        case 'app':
          report.apps++;
          break;
        case 'group':
          report.groups++;
          break;
        case 'member':
          report.members++;
          break;
        case 'membership-url':
          report.membership.urls++;
          break;
        case 'group-state':
          report.membership.groupStates++;
          break;
        case 'membership-clock':
          report.membership.clock++;
          break;
        case 'recorded-event':
          report.membership.events++;
          break;
        case 'lifecycle-row':
          report.lifecycle[record.table]++;
          break;
        case 'file':
        case 'derivative': {
          if (!announced) {
            progress(`${report.apps} apps, ${report.groups} groups, ${report.members} members`);
            announced = true;
          }
          // Bytes first, proven by their hash, and only then the record: a node already serving
          // from the new stores never sees a record without its bytes.
          const o = record.kind === 'file' ? record.file : record.derivative;
          const outcome = await copyObject(fromBytes, toBytes, o.storageKey, o.sha256!, o.contentType!);
          if (outcome === 'mismatch') {
            report.mismatched.push(o.storageKey);
            continue;
          }
          const counts = record.kind === 'file' ? report.files : report.derivatives;
          counts[outcome === 'copied' ? 'copied' : 'alreadyThere']++;
          if (outcome === 'copied') report.bytes += Number(o.size);
          if (record.kind === 'file' && (report.files.copied + report.files.alreadyThere) % 500 === 0) {
            progress(`${report.files.copied + report.files.alreadyThere} files`);
          }
          break;
        }
      }
      await dst.importRecord(record);
    }
    return report;
  } finally {
    await Promise.allSettled([src.close(), dst.close(), fromBytes.close(), toBytes.close()]);
  }
}
