// FERRY_WORKERS=2: two Ferry processes on one port, one data folder, one SQLite database. Each
// request below goes on a connection of its own, so the primary hands them out in turn; the
// request log (FERRY_LOG_LEVEL=debug) says which process served which URL (pino's pid).
// Proves: both workers serve the one port; a file uploaded through one downloads through the
// other; the admin key is generated once and works on both; SIGTERM stops every process; after
// kill -9 mid-upload the next start gives the slot back once, before the workers serve; a
// thumbnail asked of both workers at once is made once; and /metrics counts both workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { eventually } from '../helpers/eventually.ts';
import { spawnFerry, type FerryProcess } from '../helpers/process.ts';
import { SERVING_ENV, SERVING_NODE_FLAGS } from '../../src/cluster/node-flags.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';

interface Answer {
  status: number;
  body: Buffer;
}

/** One request on a connection of its own (no keep-alive agent). */
function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const json = (a: Answer) => JSON.parse(a.body.toString('utf8')) as Record<string, unknown> & { data: Record<string, string> };

type LogLine = FerryProcess['logs'][number] & { req?: { url?: string }; worker?: number };

/** pid of each worker that logged "ferry is listening" */
const listeningPids = (ferry: FerryProcess) => new Set((ferry.logs as LogLine[]).filter((l) => l.msg === 'ferry is listening').map((l) => l.pid!));

/** the pid that logged the request for exactly this URL path+query */
function servedBy(ferry: FerryProcess, url: string): number {
  const u = new URL(url);
  const line = (ferry.logs as LogLine[]).find((l) => l.msg === 'incoming request' && l.req?.url === `${u.pathname}${u.search}`);
  assert.ok(line?.pid, `a request log line for ${u.pathname}`);
  return line.pid;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** POSTs to the admin API with the key the primary wrote into the data folder. */
function adminCalls(url: string, dataDir: string): (p: string, body: unknown) => Promise<Answer> {
  const key = fs.readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim();
  return (p, body) => request(`${url}${p}`, { method: 'POST', headers: { 'x-admin-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

async function startWorkers(dataDir: string): Promise<{ ferry: FerryProcess; pids: number[] }> {
  const ferry = await spawnFerry({ FERRY_DATA_DIR: dataDir, FERRY_WORKERS: '2', FERRY_LOG_LEVEL: 'debug', FERRY_DOWNLOAD: 'stream' });
  await eventually(() => assert.equal(listeningPids(ferry).size, 2, 'both workers listen'));
  const pids = [...listeningPids(ferry)];
  assert.ok(!pids.includes(ferry.child.pid!), 'the primary serves nothing itself');
  return { ferry, pids };
}

test('FERRY_WORKERS=2: both processes serve one port; upload on one, download on the other; one admin key; SIGTERM stops all', { timeout: 120_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-workers-'));
  let ferry: FerryProcess | undefined;
  try {
    const started = await startWorkers(dataDir);
    ferry = started.ferry;
    const { pids } = started;
    // Each worker runs with the serving flags (a small young generation), as npm start would.
    for (const pid of pids) {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      for (const flag of SERVING_NODE_FLAGS) assert.ok(argv.includes(flag), `worker ${pid} runs with ${flag}: ${argv.join(' ')}`);
      // and with the serving environment (glibc's arenas), unless the test's own sets it
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      for (const [k, v] of Object.entries(SERVING_ENV)) {
        const want = process.env[k] ? process.env[k] : v;
        assert.ok(environ.includes(`${k}=${want}`), `worker ${pid} has ${k}=${want}`);
      }
    }

    // The key was generated once (by the primary), and both workers take it.
    const admin = adminCalls(ferry.url, dataDir);
    const made = await admin('/admin/apps', { app_id: 'w' });
    assert.equal(made.status, 201, made.body.toString());
    const tokens: string[] = [];
    for (const user of ['1001', '1002', '1001', '1002']) {
      const t = await admin('/admin/apps/w/tokens', { user_id: user });
      assert.ok(t.status < 300, `the admin key works on every worker: ${t.body.toString()}`);
      tokens.push(json(t).token as unknown as string);
    }

    const slotAnswer = json(await request(`${ferry.url}/file/upload/chat?app_id=w&file_type=100&to_id=1002&access-token=${tokens[0]}`));
    assert.equal(slotAnswer.code, 200, JSON.stringify(slotAnswer));
    const { upload_url: uploadUrl, download_url: downloadUrl } = slotAnswer.data;
    const bytes = randomBytes(64 * 1024);
    const put = await request(uploadUrl!, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    assert.equal(json(put).code, 200, put.body.toString());

    const servers = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const url = `${downloadUrl}&access-token=${tokens[1]}&app_id=w&probe=${i}`;
      const got = await request(url);
      assert.equal(got.status, 200, got.body.toString().slice(0, 200));
      assert.ok(got.body.equals(bytes), 'the exact bytes, from either worker');
      await eventually(() => {
        servers.add(servedBy(ferry!, url));
      });
    }
    const uploader = servedBy(ferry, uploadUrl!);
    assert.deepEqual([...servers].sort(), [...pids].sort(), 'downloads were served by both workers');
    assert.ok([...servers].some((pid) => pid !== uploader), 'a worker that did not take the upload served it');

    await ferry.stop();
    assert.equal(ferry.child.exitCode, 0, 'the primary exits 0 after a clean shutdown');
    await eventually(() => assert.deepEqual(pids.filter(alive), [], 'every worker has stopped'));
    assert.ok(ferry.logs.filter((l) => l.msg === 'shutting down').length === 2, 'each worker shut down gracefully');
    ferry = undefined;
  } finally {
    await ferry?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('FERRY_WORKERS=2: after kill -9 mid-upload, the restart gives the slot back once, before any worker serves', { timeout: 120_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-workers-crash-'));
  let ferry: FerryProcess | undefined;
  try {
    const first = await startWorkers(dataDir);
    ferry = first.ferry;
    const admin = adminCalls(ferry.url, dataDir);
    await admin('/admin/apps', { app_id: 'w' });
    const token = json(await admin('/admin/apps/w/tokens', { user_id: '1001' })).token as unknown as string;
    const slot = json(await request(`${ferry.url}/file/upload/chat?app_id=w&file_type=100&to_id=1002&access-token=${token}`)).data;
    const body = randomBytes(2 * 1024 * 1024);
    const partial = http.request(slot.upload_url!, { method: 'PUT', agent: false, headers: { 'content-type': 'application/octet-stream', 'content-length': body.length } });
    partial.on('error', () => {});
    partial.write(body.subarray(0, 512 * 1024));
    const staging = path.join(dataDir, 'objects/.tmp');
    await eventually(() => assert.ok(fs.readdirSync(staging).length > 0, 'the upload is staging bytes'));
    // The primary dies by SIGKILL; its workers go as they lose it, without a graceful shutdown.
    await ferry.kill9();
    partial.destroy();
    await eventually(() => assert.deepEqual(first.pids.filter(alive), [], 'no worker outlives its primary'));

    const second = await startWorkers(dataDir);
    ferry = second.ferry;
    const released = ferry.logs.filter((l) => l.msg.includes('released upload slots left claimed'));
    assert.equal(released.length, 1, 'claims are given back once, by the primary');
    assert.equal(released[0]!.pid, ferry.child.pid, 'the primary gave them back');
    const serving = (ferry.logs as LogLine[]).filter((l) => l.msg === 'ferry is listening');
    assert.ok(ferry.logs.indexOf(released[0]!) < ferry.logs.indexOf(serving[0]!), 'before any worker served');
    assert.equal(fs.readdirSync(staging).length, 0, 'the dead upload’s staged bytes were swept');

    const retryUrl = `${ferry.url}${new URL(slot.upload_url!).pathname}`;
    const retry = await request(retryUrl, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body });
    assert.equal(json(retry).code, 200, `the retry succeeds at once: ${retry.body.toString()}`);
  } finally {
    await ferry?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('FERRY_WORKERS=2: a burst of thumbnail requests on both workers makes one; /metrics counts every worker, whichever takes the scrape', { timeout: 120_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-workers-metrics-'));
  let ferry: FerryProcess | undefined;
  try {
    const started = await startWorkers(dataDir);
    ferry = started.ferry;
    const admin = adminCalls(ferry.url, dataDir);
    assert.equal((await admin('/admin/apps', { app_id: 'm' })).status, 201);
    const token = json(await admin('/admin/apps/m/tokens', { user_id: '1001' })).token as unknown as string;

    const sharp = (await import('sharp')).default;
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#36a' } }).png().toBuffer();
    const slot = json(await request(`${ferry.url}/file/upload/chat?app_id=m&file_type=102&to_id=1002&access-token=${token}`));
    assert.equal(slot.code, 200, JSON.stringify(slot));
    const put = await request(slot.data.upload_url!, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: png });
    assert.equal(json(put).code, 200, put.body.toString());

    // Eight at once, each on a connection of its own: the primary hands them to both workers.
    const thumbs = Array.from({ length: 8 }, (_, i) => `${slot.data.download_url}&access-token=${token}&app_id=m&image_type=2&probe=${i}`);
    const answers = await Promise.all(thumbs.map((u) => request(u)));
    for (const a of answers) {
      assert.equal(a.status, 200, a.body.toString().slice(0, 200));
      assert.equal(a.body.subarray(0, 2).toString('hex'), 'ffd8', 'a JPEG thumbnail');
      assert.ok(a.body.length < png.length, 'the thumbnail, not the original');
    }
    const thumbServers = new Set<number>();
    await eventually(() => {
      for (const u of thumbs) thumbServers.add(servedBy(ferry!, u));
    });
    assert.equal(thumbServers.size, 2, 'both workers were asked for the thumbnail');

    // Every scrape, whichever worker takes it, reads the counts of both.
    const scrapeServers = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const url = `${ferry.url}/metrics?scrape=${i}`;
      const got = await request(url);
      assert.equal(got.status, 200, got.body.toString().slice(0, 200));
      const { samples } = parsePrometheus(got.body.toString('utf8'));
      const value = (name: string, labels: Record<string, string>) =>
        samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
      assert.equal(value('ferry_derivatives_total', { kind: 'image', result: 'made' }), 1, 'one thumbnail made across both workers');
      assert.equal(value('ferry_derivatives_total', { kind: 'image' }), 8, 'every request counted, made or reused');
      assert.equal(value('ferry_http_requests_total', { route: '/file/download/chat', status: '2xx' }), 8);
      assert.equal(value('ferry_upload_files_total', { file_type: '102' }), 1);
      // prom-client's default metrics: one Node version, not one per worker
      assert.equal(samples.filter((s) => s.name === 'ferry_nodejs_version_info').length, 1);
      await eventually(() => {
        scrapeServers.add(servedBy(ferry!, url));
      });
    }
    assert.equal(scrapeServers.size, 2, 'both workers took scrapes');

    // A worker that does not answer: the scrape fails clearly rather than count half of Ferry
    // (counters that drop would read as a restart). Two scrapes at once: at least one goes to
    // the worker still running, which waits for the stopped one and then answers 503.
    const [, stopped] = started.pids;
    const base = ferry.url;
    process.kill(stopped!, 'SIGSTOP');
    let pending: Array<Promise<Answer>> = [];
    try {
      pending = [0, 1].map((i) => request(`${base}/metrics?while-stopped=${i}`));
      const first = await Promise.race(pending);
      assert.equal(first.status, 503, first.body.toString().slice(0, 200));
      assert.match(JSON.parse(first.body.toString()).error as string, /could not be gathered/);
    } finally {
      process.kill(stopped!, 'SIGCONT');
    }
    // Running again, it answers what it was handed meanwhile, and scrapes count both again.
    for (const a of await Promise.all(pending)) assert.ok(a.status === 200 || a.status === 503, `scrape answered ${a.status}`);
    const again = await request(`${ferry.url}/metrics?after=1`);
    assert.equal(again.status, 200);
    assert.ok(again.body.toString().includes('ferry_derivatives_total{kind="image",result="made"} 1'), 'both workers counted again');
  } finally {
    await ferry?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
