#!/usr/bin/env node
// The test orchestrator behind `npm test`: runs every test file twice, once embedded (SQLite +
// data folder) and once scale-out (PostgreSQL + Ceph RGW, which it starts from .ci/services and
// stops afterwards). The same files run both times; test/helpers/ferry.ts reads the mode from
// FERRY_TEST_ENV_* and gives every Ferry a fresh database and bucket. test/scaleout/** (many
// nodes, faults, direct uploads, migrate-store) needs PostgreSQL and S3 and runs in the second
// pass only; test/embedded/** in the first only. Exit code 0 only when both passes pass.
//
//   FERRY_TEST_MODES=embedded          only the first pass (no root, no Ceph at hand)
//   FERRY_TEST_MODES=scale-out         only the second
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

const isScaleOutOnly = (f) => f.split(path.sep).includes('scaleout');
// test/embedded/** is about the embedded mode itself (SQLite locks, the data folder's disk and
// modes, kill -9 of the one process that owns it): first pass only. It mounts tmpfs: root.
const isEmbeddedOnly = (f) => f.split(path.sep).includes('embedded');

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

const files = testFiles(process.argv.slice(2));
const results = [];

if (modes.includes('embedded')) {
  const embedded = files.filter((f) => !isScaleOutOnly(f));
  if (embedded.length > 0) results.push(await runSuite('embedded (SQLite + data folder)', embedded, {}));
}

if (modes.includes('scale-out')) {
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
    for (const [k, v] of Object.entries({ ...pgenv, ...s3env, FERRY_STORE: `s3://${BASE_BUCKET}`, FERRY_S3_DOWNLOAD: 'stream' })) env[`FERRY_TEST_ENV_${k}`] = v;
    // The shared suite checks Ferry's own serving (ranges, ETag, safe headers) with the bytes in
    // the bucket, so it streams; the 302-to-presigned-URL answers are test/scaleout's subject.
    results.push(await runSuite('scale-out (PostgreSQL + Ceph RGW)', files.filter((f) => !isEmbeddedOnly(f)), env));
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
