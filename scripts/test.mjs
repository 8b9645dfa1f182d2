#!/usr/bin/env node
// The test orchestrator behind `npm test`. Two passes:
//
// - embedded (SQLite + data folder): every test file except test/scaleout/**; test/embedded/**
//   (SQLite locks, the data folder's disk and modes, kill -9; it mounts tmpfs: root) runs here only.
// - scale-out (PostgreSQL + Ceph RGW, started from .ci/services and stopped afterwards): only
//   what PostgreSQL and S3 can show that the first pass cannot: test/contract/** (the store
//   contracts, now on PostgreSQL and S3), test/scaleout/** (many nodes, faults, redirects,
//   direct uploads, migrate-store) and the integration files in SCALE_OUT_INTEGRATION below.
//
// A file runs unchanged in either pass: test/helpers/ferry.ts reads the mode from
// FERRY_TEST_ENV_* and gives every Ferry a fresh database and bucket. Exit code 0 only when
// every pass that ran passed.
//
//   FERRY_TEST_MODES=embedded          only the first pass (no root, no Ceph at hand)
//   FERRY_TEST_MODES=scale-out         only the second
//   FERRY_TEST_SCALE_OUT_ALL=1         the second pass runs every test file, as the first does
//   FERRY_TEST_KEEP_SERVICES=1         leave PostgreSQL and Ceph running afterwards
//   node scripts/test.mjs FILE…        only these files (in the passes they belong to)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const services = path.join(root, '.ci', 'services');
const PG_DIR = process.env.FERRY_PG_DIR || '/tmp/ferry-pg';
const CEPH_DIR = process.env.FERRY_CEPH_DIR || '/tmp/ferry-ceph';
const BASE_BUCKET = 'ferry';

const modes = (process.env.FERRY_TEST_MODES || 'embedded,scale-out').split(',').map((m) => m.trim());
const log = (msg) => process.stderr.write(`test: ${msg}\n`);

function testFiles(args) {
  if (args.length > 0) return args.map((a) => path.relative(root, path.resolve(a)));
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.test.ts')) out.push(rel);
    }
  };
  walk('test');
  return out.sort();
}

/** the top folder under test/ ("unit", "integration", "contract", "scaleout") */
const folderOf = (f) => f.split(path.sep)[1];
const posix = (f) => f.split(path.sep).join('/');

/**
 * Integration files that also run in the scale-out pass: the HTTP paths end to end on
 * PostgreSQL + S3, where the stores' own behaviour shows through HTTP. The rest of
 * test/integration (access rules, credentials, admin API, CLI, forwards, media decoding) is
 * logic above the MetaStore and ByteStore seams; the contract suites show that both pairs of
 * stores keep the same promises, so running that logic a second time proves nothing new.
 */
const SCALE_OUT_INTEGRATION = [
  // Every refusal, size limit and hang-up leaves no object and no open multipart upload in the
  // bucket and no ready record in PostgreSQL; slot claims (busy, used, expired) on PostgreSQL.
  'test/integration/upload.test.ts',
  // Ferry streaming from S3: ranges, HEAD, ETag, 304 (S3 has no readSmall, so every read goes
  // through read()); an object gone from the bucket answers 10009.
  'test/integration/download.test.ts',
  // Derivatives: the original read from the bucket, the thumbnail staged into it, recorded in
  // PostgreSQL once under concurrent requests, served back with ranges.
  'test/integration/media-images.test.ts',
  // close() lets an upload streaming into a multipart upload finish before the S3 client is
  // closed (local disk has nothing to close, so only this pass can tell); past the grace period
  // the abort leaves no open multipart upload.
  'test/integration/shutdown.test.ts',
  // Every download outcome with the bucket underneath: 302 to a presigned URL (signed for the
  // public endpoint, reused in its window) and the bucket answering it, ranges included.
  'test/integration/download-outcomes.test.ts',
  // Deletion: the bytes and derivatives leave the bucket with a file's last reference, a
  // deleted URL is refused at once (state read from PostgreSQL, never a node's cache), a
  // download streaming from the bucket when the delete lands ends cleanly; quarantine on
  // PostgreSQL blocks a re-upload before anything is committed to the bucket.
  'test/integration/lifecycle.test.ts',
  // Quotas: an upload refused while streaming into a multipart upload leaves nothing in the
  // bucket; usage counters (upserts) on PostgreSQL.
  'test/integration/quotas.test.ts',
  // The janitor's sweep: retention and superseded avatars remove objects from the bucket, and
  // multipart uploads left open in the bucket are aborted a day later (only S3 writes in parts).
  'test/integration/retention.test.ts',
];

// A renamed or removed file must not drop out of the scale-out pass unnoticed.
for (const f of SCALE_OUT_INTEGRATION) {
  if (!fs.existsSync(path.join(root, f))) {
    log(`SCALE_OUT_INTEGRATION names ${f}, which does not exist: update scripts/test.mjs`);
    process.exit(1);
  }
}

const inPass = {
  embedded: (f) => folderOf(f) !== 'scaleout',
  'scale-out': (f) =>
    process.env.FERRY_TEST_SCALE_OUT_ALL === '1' ||
    folderOf(f) === 'contract' ||
    folderOf(f) === 'scaleout' ||
    SCALE_OUT_INTEGRATION.includes(posix(f)),
};

/** The files of a pass; says which of the files asked for by name it leaves out. */
function filesFor(pass, files, named) {
  const out = files.filter(inPass[pass]);
  if (named) for (const f of files.filter((x) => !inPass[pass](x))) log(`${pass}: ${f} does not run in this pass`);
  return out;
}

function readEnvFile(file) {
  const env = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** Runs node's test runner on files; resolves with its exit code and the "# pass/# fail" totals. */
function runSuite(name, files, extraEnv) {
  return new Promise((resolve) => {
    const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extraEnv };
    for (const k of Object.keys(env)) if (k.startsWith('FERRY_TEST_ENV_') && !(k in extraEnv)) delete env[k];
    log(`${name}: ${files.length} test files`);
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    const totals = {};
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4000);
    });
    child.on('close', (code) => {
      for (const key of ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo']) {
        const m = new RegExp(`^# ${key} (\\d+)$`, 'm').exec(tail);
        totals[key] = m ? Number(m[1]) : null;
      }
      resolve({ name, code: code ?? 1, totals, seconds: Math.round((Date.now() - started) / 1000) });
    });
  });
}

function sh(script, args = []) {
  const res = spawnSync('bash', [path.join(services, script), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${script} ${args.join(' ')} failed with exit code ${res.status}`);
  return res.stdout.trim();
}

async function ensureBaseBucket(s3env) {
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client({
    endpoint: s3env.FERRY_S3_ENDPOINT,
    region: s3env.FERRY_S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: s3env.FERRY_S3_ACCESS_KEY, secretAccessKey: s3env.FERRY_S3_SECRET_KEY },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BASE_BUCKET }));
  } catch (err) {
    if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
  } finally {
    s3.destroy();
  }
}

const named = process.argv.length > 2;
const files = testFiles(process.argv.slice(2));
const results = [];

if (modes.includes('embedded')) {
  const embedded = filesFor('embedded', files, named);
  if (embedded.length > 0) results.push(await runSuite('embedded (SQLite + data folder)', embedded, {}));
}

const scaleOutFiles = modes.includes('scale-out') ? filesFor('scale-out', files, named) : [];
if (scaleOutFiles.length > 0) {
  const wasRunning = fs.existsSync(path.join(PG_DIR, 'data', 'postmaster.pid')) && fs.existsSync(path.join(CEPH_DIR, 'run', 'osd.0.pid'));
  let started = false;
  try {
    const t0 = Date.now();
    log('starting PostgreSQL and Ceph (mon, osd, radosgw) from .ci/services…');
    sh('pg-start.sh');
    sh('ceph-start.sh');
    started = true;
    log(`services up after ${Math.round((Date.now() - t0) / 1000)} s`);
    const s3env = readEnvFile(path.join(CEPH_DIR, 'env'));
    const pgenv = readEnvFile(path.join(PG_DIR, 'env'));
    await ensureBaseBucket(s3env);
    const env = {};
    for (const [k, v] of Object.entries({ ...pgenv, ...s3env, FERRY_STORE: `s3://${BASE_BUCKET}`, FERRY_DOWNLOAD: 'stream' })) env[`FERRY_TEST_ENV_${k}`] = v;
    // The integration files check Ferry's own serving (ranges, ETag, safe headers) with the bytes
    // in the bucket, so it streams; the 302-to-presigned-URL answers are test/scaleout's subject.
    results.push(await runSuite('scale-out (PostgreSQL + Ceph RGW)', scaleOutFiles, env));
  } catch (err) {
    log(`scale-out pass NOT RUN: ${err.message}`);
    log('it needs root (apt-get install of radosgw ceph-mon ceph-osd ceph-common) and PostgreSQL 15; FERRY_TEST_MODES=embedded runs the first pass alone');
    results.push({ name: 'scale-out (PostgreSQL + Ceph RGW)', code: 1, totals: {}, seconds: 0, error: err.message });
  } finally {
    if (started && !wasRunning && process.env.FERRY_TEST_KEEP_SERVICES !== '1') {
      log('stopping Ceph and PostgreSQL');
      try {
        sh('ceph-stop.sh');
        sh('pg-stop.sh');
      } catch (err) {
        log(err.message);
      }
    }
  }
}

log('──────── summary ────────');
if (results.length === 0) log('no test file ran: none of those asked for belongs to the passes asked for');
for (const r of results) {
  const t = r.totals;
  const line = r.error
    ? `NOT RUN (${r.error})`
    : `tests ${t.tests ?? '?'}, pass ${t.pass ?? '?'}, fail ${t.fail ?? '?'}, cancelled ${t.cancelled ?? '?'}, skipped ${t.skipped ?? '?'}, todo ${t.todo ?? '?'} (${r.seconds} s)`;
  log(`${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.name}: ${line}`);
}
// One plain closing line over both passes, in the form CI reads ("N passed, N failed").
const sum = (k) => results.reduce((n, r) => n + (Number(r.totals?.[k]) || 0), 0);
console.log(`${sum('pass')} passed, ${sum('fail') + results.filter((r) => r.error).length} failed, ${sum('skipped')} skipped`);
process.exit(results.length > 0 && results.every((r) => r.code === 0) ? 0 : 1);
