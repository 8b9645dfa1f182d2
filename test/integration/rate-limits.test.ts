// Rate limits on slot issuance, upload receiving and downloads, per client IP and per app user:
// a refusal is Lanying's envelope with HTTP 200, code 60060 and Retry-After, and the client gets
// through again once that time has passed. Settings that are not numbers stop Ferry at start.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { api, chatSlot, postMultipart, withCreds, type Creds, type Slot } from '../helpers/client.ts';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, ConfigError } from '../../src/config.ts';
import { buildDist } from '../helpers/build.ts';
import { cliEnv } from '../helpers/cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const started: TestFerry[] = [];
after(() => Promise.all(started.map((f) => f.close())));

async function ferryWith(env: Record<string, string>): Promise<TestFerry> {
  const f = await startTestFerry({ FERRY_RATE_WINDOW_S: '2', ...env });
  started.push(f);
  return f;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw answer: status, Retry-After, and the envelope. */
async function call(url: string, init: RequestInit = {}): Promise<{ status: number; retryAfter: string | null; code: number; message: string }> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const text = await res.text();
  const json = res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as { code: number; message: string }) : null;
  return { status: res.status, retryAfter: res.headers.get('retry-after'), code: json?.code ?? res.status, message: json?.message ?? '' };
}

function assertLimited(r: Awaited<ReturnType<typeof call>>, what: RegExp): number {
  assert.equal(r.status, 200, 'HTTP 200, as every Lanying business error');
  assert.equal(r.code, 60060);
  assert.match(r.message, what);
  assert.match(r.retryAfter ?? '', /^[1-9]\d*$/);
  return Number(r.retryAfter);
}

const slotUrl = (f: TestFerry, creds: Creds) => `${f.url}/file/upload/chat?app_id=${creds.appId}&access-token=${creds.token}&file_type=100&to_id=2`;

test('slots per user: the fourth in the window is refused with Retry-After; another user is not; after Retry-After it works', async () => {
  const f = await ferryWith({ FERRY_RATE_SLOTS_PER_USER: '3' });
  const { appId } = await f.createApp('rl-slots');
  const u1 = { appId, token: await f.token(appId, '1') };
  const u2 = { appId, token: await f.token(appId, '2') };
  for (let i = 0; i < 3; i++) assert.equal((await call(slotUrl(f, u1))).code, 200);
  const wait = assertLimited(await call(slotUrl(f, u1)), /too many upload slots for this user/);
  assert.ok(wait <= 2);
  assert.equal((await call(slotUrl(f, u2))).code, 200, 'counted per user');
  await sleep(wait * 1000);
  assert.equal((await call(slotUrl(f, u1))).code, 200, 'recovered');
});

test('slots per IP count before credentials: a flood of bad tokens is cut too', async () => {
  const f = await ferryWith({ FERRY_RATE_SLOTS_PER_IP: '2' });
  const { appId } = await f.createApp('rl-slots-ip');
  const bad = { appId, token: 'not.a.token' };
  assert.equal((await call(slotUrl(f, bad))).code, 10008);
  assert.equal((await call(slotUrl(f, bad))).code, 10008);
  const good = { appId, token: await f.token(appId, '1') };
  const wait = assertLimited(await call(slotUrl(f, good)), /from this address/);
  await sleep(wait * 1000);
  assert.equal((await call(slotUrl(f, good))).code, 200);
});

test('uploads per user: refused with Retry-After, the slot stays usable and takes the upload afterwards', async () => {
  const f = await ferryWith({ FERRY_RATE_UPLOADS_PER_USER: '1' });
  const { appId } = await f.createApp('rl-uploads');
  const creds = { appId, token: await f.token(appId, '1') };
  const a: Slot = await chatSlot(f.url, creds, { file_type: 100, to_id: '2' });
  const b: Slot = await chatSlot(f.url, creds, { file_type: 100, to_id: '2' });
  assert.deepEqual((await postMultipart(a.upload_url, Buffer.from('one'), { filename: 'a.txt' })).body.data, true);
  const form = () => {
    const fd = new FormData();
    fd.append('file', new Blob([Buffer.from('two')]), 'b.txt');
    return fd;
  };
  const wait = assertLimited(await call(b.upload_url, { method: 'POST', body: form() }), /too many uploads for this user/);
  await sleep(wait * 1000);
  assert.deepEqual((await postMultipart(b.upload_url, Buffer.from('two'), { filename: 'b.txt' })).body.data, true);
  const got = await fetch(withCreds(b.download_url, creds));
  assert.equal(await got.text(), 'two');
});

test('downloads per IP and per user; limits of 0 are off', async () => {
  const f = await ferryWith({ FERRY_RATE_DOWNLOADS_PER_USER: '2', FERRY_RATE_DOWNLOADS_PER_IP: '5', FERRY_RATE_SLOTS_PER_IP: '0' });
  const { appId } = await f.createApp('rl-downloads');
  const u1 = { appId, token: await f.token(appId, '1') };
  const u2 = { appId, token: await f.token(appId, '2') };
  const slot = await chatSlot(f.url, u1, { file_type: 100, to_id: '2' });
  await postMultipart(slot.upload_url, Buffer.from('x'), { filename: 'x.txt' });
  const first = await call(withCreds(slot.download_url, u1));
  assert.ok(first.status === 302 || first.status === 200);
  await call(withCreds(slot.download_url, u1));
  assertLimited(await call(withCreds(slot.download_url, u1)), /too many downloads for this user/);
  await call(withCreds(slot.download_url, u2));
  await call(withCreds(slot.download_url, u2));
  // Five from this address so far (the refused one counted against the address too).
  const wait = assertLimited(await call(withCreds(slot.download_url, u2)), /downloads from this address/);
  await sleep(wait * 1000 + 200);
  assert.notEqual((await call(withCreds(slot.download_url, u2))).code, 60060);
  // Slots were left unlimited (0).
  for (let i = 0; i < 5; i++) assert.equal((await api(f.url, '/file/upload/chat', { file_type: 100, to_id: '2' }, u1)).body.code, 200);
});

test('rate-limit settings that are not numbers stop Ferry at start, naming the setting', () => {
  buildDist();
  for (const [name, value] of [
    ['FERRY_RATE_SLOTS_PER_IP', 'ten'],
    ['FERRY_RATE_UPLOADS_PER_USER', '1.5'],
    ['FERRY_RATE_DOWNLOADS_PER_IP', '-1'],
    ['FERRY_RATE_WINDOW_S', '0'],
    ['FERRY_TRUST_PROXY', 'everyone'],
  ] as const) {
    assert.throws(() => loadConfig({ [name]: value }), (err: unknown) => err instanceof ConfigError && err.message.includes(name), `${name}=${value}`);
    // The server itself (npm start runs dist/main.js): exit 2 and one line naming the setting.
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/main.js')], {
      env: cliEnv({ FERRY_DATA_DIR: path.join(os.tmpdir(), 'ferry-never-created'), FERRY_PORT: '0', [name]: value }),
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 2, `${name}=${value}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^ferry: ${name} must `));
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
  }
});
