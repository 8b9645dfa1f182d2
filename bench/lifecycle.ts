// Lifecycle (issue "Files that can be taken back"):
//
//   lifecycle-delete     (a) 10,000 download_urls deleted through the admin API (1,000 per
//                        request, two requests at a time), in URLs/s, with every result
//                        "deleted", every bytes_removed true and the objects folder empty after.
//                        No peer: a figure to report.
//   lifecycle-download   (b) a 16 KiB download's req/s with 1,000,000 file records (100,000 of
//                        them deleted, with their references) in the database, vs the same
//                        Ferry with 1,000 records. Target ≥ 0.9: deletion state must not slow
//                        the hot path.
//
// The records are seeded by one bulk INSERT per table while the Ferry is stopped (not through
// 1M uploads), then the Ferry is started again on the same data folder; both sides are seeded
// the same way and differ only in the number of rows. Smaller runs: BENCH_LIFECYCLE_URLS and
// BENCH_LIFECYCLE_RECORDS (the deleted share stays a tenth).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { expectBytes } from './core-download.ts';
import { chatSlot, createUser, downloadUrlWithCreds, isUploadAccepted, startFerry, type BenchUser, type RunningFerry } from './lib/ferry.ts';
import { needTool } from './lib/needs.ts';
import { median } from './lib/stats.ts';
import type { BenchContext, Comparison } from './lib/types.ts';
import { wrkNotes, wrkPair } from './lib/wrk.ts';

const count = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1, got ${raw}`);
  return n;
};

async function upload(ferry: RunningFerry, user: BenchUser, bytes: Buffer): Promise<string> {
  const slot = await chatSlot(ferry, user);
  const put = await fetch(slot.upload_url, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'content-type': 'application/octet-stream' } });
  const answer = await put.text();
  if (!isUploadAccepted(put.status, answer)) throw new Error(`Ferry refused an upload: HTTP ${put.status} ${answer}`);
  return slot.download_url;
}

/** run fn over items, `width` at a time */
async function pool<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
    }),
  );
  return out;
}

const objectsIn = (dataDir: string) =>
  fs.existsSync(path.join(dataDir, 'objects'))
    ? fs
        .readdirSync(path.join(dataDir, 'objects'), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && !path.relative(path.join(dataDir, 'objects'), e.parentPath).startsWith('.tmp')).length
    : 0;

export const deleteThroughput: Comparison = {
  id: 'lifecycle-delete',
  title: '(a) download_urls deleted through the admin API, bytes verified gone (report)',
  needs: [],
  async run(ctx: BenchContext) {
    const n = count('BENCH_LIFECYCLE_URLS', 10_000);
    const dataDir = path.join(ctx.tmpDir, 'ferry');
    const ferry = await startFerry({ dataDir, nodeArgs: ctx.ferryNodeArgs, env: { FERRY_DOWNLOAD: 'stream' } });
    try {
      const user = await createUser(ferry);
      ctx.log(`  uploading ${n} files of 1 KiB`);
      // FERRY_UPLOADS_PER_USER is 10 by default
      const urls = await pool(
        Array.from({ length: n }, (_, i) => i),
        8,
        (i) => upload(ferry, user, Buffer.concat([Buffer.from(`file ${i} `), randomBytes(1024)])),
      );
      if (objectsIn(dataDir) !== n) throw new Error(`expected ${n} objects before deleting, found ${objectsIn(dataDir)}`);
      const batches: string[][] = [];
      for (let i = 0; i < urls.length; i += 1000) batches.push(urls.slice(i, i + 1000));
      const t0 = process.hrtime.bigint();
      const answers = await pool(batches, 2, async (batch) => {
        const res = await fetch(`${ferry.url}/admin/apps/${user.appId}/files/delete`, {
          method: 'POST',
          headers: { 'x-admin-key': ferry.adminKey, 'content-type': 'application/json' },
          body: JSON.stringify({ urls: batch }),
        });
        const body = (await res.json()) as { results?: Array<{ result: string; bytes_removed?: boolean }> };
        if (res.status !== 200 || !body.results) throw new Error(`delete refused: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
        return body.results;
      });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const results = answers.flat();
      const wrong = results.filter((r) => r.result !== 'deleted' || r.bytes_removed !== true);
      if (results.length !== n || wrong.length > 0) throw new Error(`${wrong.length} of ${results.length} URLs not deleted with their bytes: ${JSON.stringify(wrong[0])}`);
      const left = objectsIn(dataDir);
      if (left !== 0) throw new Error(`${left} objects still in the data folder after deleting every URL`);
      const gone = await fetch(downloadUrlWithCreds({ download_url: urls[0]!, upload_url: '' }, user));
      const env = (await gone.json()) as { code: number };
      if (env.code !== 60050) throw new Error(`a deleted URL answered ${env.code}, not 60050`);
      const rate = n / seconds;
      return {
        unit: 'URLs/s',
        better: 'higher',
        ferry: { label: `POST …/files/delete, ${n} URLs in requests of 1,000 (2 at a time)`, value: rate, stat: 'median', samples: [rate] },
        peer: null,
        target: { kind: 'at-least', value: 1 },
        notes: [`${n} URLs in ${seconds.toFixed(2)} s; every result "deleted" with bytes_removed, the objects folder empty after, a deleted URL answers 60050`, 'a figure to report: the issue sets no target'],
        details: { urls: n, seconds },
      };
    } finally {
      await ferry.stop();
    }
  },
};

/**
 * `records` file records (and their references) in the app, a tenth of them deleted, written
 * straight into the stopped Ferry's SQLite database by one INSERT … SELECT per table.
 */
function seed(dataDir: string, appId: string, records: number): void {
  const db = new SQLite(path.join(dataDir, 'ferry.sqlite'));
  try {
    const deleted = Math.floor(records / 10);
    const now = Date.now();
    db.transaction(() => {
      const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @records)`;
      db.prepare(
        `${series}
         INSERT INTO files (id, app_id, kind, file_type, owner_id, to_id, to_type, slot_id, slot_expires_at, status, storage_key, size, sha256, content_type, file_name, created_at, completed_at)
         SELECT printf('s%016x', i), @app, 'chat', 100, '1001', '1002', 1, printf('seedslot%016x', i), @now,
                CASE WHEN i <= @deleted THEN 'deleted' ELSE 'ready' END, printf('files/s/s%016x', i), 1024, lower(hex(randomblob(32))),
                'application/octet-stream', 'seed.bin', @now, @now
         FROM n`,
      ).run({ records, deleted, app: appId, now });
      db.prepare(
        `${series}
         INSERT INTO file_refs (id, app_id, file_id, from_id, to_id, to_type, file_type, state, created_at, deleted_at)
         SELECT printf('s%016x', i), @app, printf('s%016x', i), '1001', '1002', 1, 100,
                CASE WHEN i <= @deleted THEN 'deleted' ELSE 'live' END, @now, CASE WHEN i <= @deleted THEN @now ELSE NULL END
         FROM n`,
      ).run({ records, deleted, app: appId, now });
    })();
  } finally {
    db.close();
  }
}

/** A stopped-and-restarted Ferry whose database holds `records` records besides one real 16 KiB file. */
async function ferryWithRecords(ctx: BenchContext, name: string, records: number, bytes: Buffer): Promise<{ ferry: RunningFerry; url: string }> {
  const dataDir = path.join(ctx.tmpDir, name);
  const env = { FERRY_DOWNLOAD: 'stream' };
  const first = await startFerry({ dataDir, nodeArgs: ctx.ferryNodeArgs, env });
  let user: BenchUser;
  let downloadUrl: string;
  try {
    user = await createUser(first);
    downloadUrl = await upload(first, user, bytes);
  } finally {
    await first.stop();
  }
  const t0 = Date.now();
  seed(dataDir, user.appId, records);
  ctx.log(`  ${name}: ${records} records seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const ferry = await startFerry({ dataDir, nodeArgs: ctx.ferryNodeArgs, env });
  // The restarted Ferry listens on another free port: the same URL, on its origin.
  const moved = new URL(downloadUrl);
  const url = `${ferry.url}${moved.pathname}${moved.search}`;
  return { ferry, url: downloadUrlWithCreds({ download_url: url, upload_url: '' }, user) };
}

export const downloadWithRecords: Comparison = {
  id: 'lifecycle-download',
  title: '(b) 16 KiB download with 1,000,000 records (100,000 deleted) vs with 1,000',
  needs: [needTool('wrk', 'wrk')],
  async run(ctx) {
    const records = count('BENCH_LIFECYCLE_RECORDS', 1_000_000);
    const bytes = randomBytes(16 * 1024);
    const big = await ferryWithRecords(ctx, 'big', records - 1, bytes);
    let small: { ferry: RunningFerry; url: string } | null = null;
    try {
      small = await ferryWithRecords(ctx, 'small', 999, bytes);
      for (const side of [big, small]) await expectBytes(side.url, bytes, 'Ferry');
      const { ferry: f, peer: p } = await wrkPair(ctx.opts, ctx.log, big.url, small.url);
      for (const side of [big, small]) await expectBytes(side.url, bytes, 'Ferry');
      const fr = f.map((r) => r.requestsPerSec);
      const pr = p.map((r) => r.requestsPerSec);
      return {
        unit: 'req/s',
        better: 'higher',
        ferry: { label: `GET download_url, ${records.toLocaleString('en')} records (a tenth deleted)`, value: median(fr), stat: 'median', samples: fr },
        peer: { name: 'the same Ferry, 1,000 records', label: 'GET download_url, 1,000 records (a tenth deleted)', value: median(pr), stat: 'median', samples: pr },
        target: { kind: 'ratio-at-least', value: 0.9 },
        notes: [
          `wrk -t${ctx.opts.threads} -c${ctx.opts.connections} -d${ctx.opts.durationS}s on both; FERRY_DOWNLOAD=stream; embedded mode (SQLite)`,
          'records and references seeded by bulk INSERT while the Ferry was stopped',
          ...wrkNotes('ferry (big)', f),
          ...wrkNotes('ferry (small)', p),
        ],
        details: { records, deleted: Math.floor((records - 1) / 10) },
      };
    } finally {
      await small?.ferry.stop();
      await big.ferry.stop();
    }
  },
};
