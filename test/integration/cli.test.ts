// The `ferry` command line (`npx ferry …` runs bin/ferry.mjs, which runs dist/cli.js, built here
// first): the admin API's operations run as a child process against FERRY_DATA_DIR, and what it
// creates works on a Ferry serving the same data folder, whether that Ferry starts afterwards or
// is already running; `ferry serve` runs that Ferry from the build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { eventually } from '../helpers/eventually.ts';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { provision, type Provisioned } from '../helpers/storage-mode.ts';
import { api, getJson, withCreds, type Slot } from '../helpers/client.ts';
import { decodeJwt, signClaims, uploadChat } from '../helpers/jwt.ts';
import { buildDist, FERRY_BIN as BIN } from '../helpers/build.ts';
import { cliEnv, cliJson, cliRefused, runCli } from '../helpers/cli.ts';

let dataDir: string;
let running: TestFerry | undefined;
/** the storage mode's settings, with one database and bucket shared by the CLI and the server */
let mode: Provisioned;

before(async () => {
  buildDist();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cli-'));
  mode = await provision();
});
after(async () => {
  await running?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  await mode.release();
});

/** This test's FERRY_* settings: its storage mode and data folder, plus `extra`. */
const settings = (extra: Record<string, string> = {}) => ({ ...mode.env, FERRY_DATA_DIR: dataDir, ...extra });

/** Run `node bin/ferry.mjs …` with only this test's FERRY_* settings. */
const ferry = (...args: string[]) => runCli(args, settings());
const ok = <T = Record<string, unknown>>(...args: string[]) => cliJson<T>(ferry(...args), args);
const fails = (expectedCode: number, stderrPart: RegExp, ...args: string[]) => cliRefused(ferry(...args), args, expectedCode, stderrPart);

test('--help names the operator commands', async () => {
  const r = await ferry('--help');
  assert.equal(r.code, 0);
  for (const cmd of ['app', 'token', 'group', 'member', 'serve']) assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`));
});

test('app create prints {app_id, secret}; the same id again exits 2', async () => {
  const created = await ok<{ app_id: string; secret: string }>('app', 'create', '--app-id', 'cli-app');
  assert.deepEqual(Object.keys(created).sort(), ['app_id', 'secret']);
  assert.equal(created.app_id, 'cli-app');
  assert.ok(created.secret.length >= 32);
  await fails(2, /already exists/, 'app', 'create', '--app-id', 'cli-app');
  await fails(2, /app_id/, 'app', 'create', '--app-id', 'bad id!');
});

test('app create without --app-id picks a random id', async () => {
  const created = await ok<{ app_id: string }>('app', 'create');
  assert.match(created.app_id, /^[A-Za-z0-9_-]{1,64}$/);
});

test('token prints a JWT with app, sub, role, exp; int64 ids stay exact', async () => {
  const user = await ok<{ token: string }>('token', '--app', 'cli-app', '--user', '1001');
  const u = decodeJwt(user.token).payload;
  assert.deepEqual({ app: u.app, sub: u.sub, role: u.role }, { app: 'cli-app', sub: '1001', role: 1 });
  assert.equal((u.exp as number) - (u.iat as number), 7 * 86400);
  const admin = await ok<{ token: string }>('token', '--app', 'cli-app', '--user', '9223372036854775807', '--role', 'admin', '--ttl', '60');
  const a = decodeJwt(admin.token).payload;
  assert.deepEqual({ sub: a.sub, role: a.role, ttl: (a.exp as number) - (a.iat as number) }, { sub: '9223372036854775807', role: 2, ttl: 60 });
});

test('token refuses bad input: unknown app exits 3, bad values exit 2, a missing option is a usage error', async () => {
  // None of these writes anything, so they run side by side.
  const [missing] = await Promise.all([
    ferry('token', '--app', 'cli-app'),
    fails(3, /not found/, 'token', '--app', 'nope', '--user', '1'),
    fails(2, /ttl_s/, 'token', '--app', 'cli-app', '--user', '1', '--ttl', '0x10'),
    fails(2, /role/, 'token', '--app', 'cli-app', '--user', '1', '--role', 'king'),
    fails(2, /user_id/, 'token', '--app', 'cli-app', '--user', '9223372036854775808'),
  ]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /--user/);
});

test('group and member manage a group; the owner cannot leave; unknown groups exit 3', async () => {
  assert.deepEqual(await ok('group', '--app', 'cli-app', '--group', '40', '--owner', '1001'), { app_id: 'cli-app', group_id: '40', owner_id: '1001' });
  assert.deepEqual(await ok('member', 'add', '--app', 'cli-app', '--group', '40', '--user', '1002', '--role', 'admin'), {
    app_id: 'cli-app',
    group_id: '40',
    user_id: '1002',
    role: 'admin',
  });
  await Promise.all([
    fails(2, /owner/, 'member', 'remove', '--app', 'cli-app', '--group', '40', '--user', '1001'),
    fails(3, /not found/, 'member', 'add', '--app', 'cli-app', '--group', '41', '--user', '1002'),
    fails(2, /group_id/, 'group', '--app', 'cli-app', '--group', 'abc', '--owner', '1001'),
  ]);
});

test('what the CLI created works on a Ferry started on the same data folder, and the CLI keeps working while it runs', async () => {
  // Created before the server starts.
  const [token1001, token1002, token1003] = (
    await Promise.all(['1001', '1002', '1003'].map((u) => ok<{ token: string }>('token', '--app', 'cli-app', '--user', u)))
  ).map((r) => r.token);
  running = await startTestFerry({ ...mode.env, FERRY_DATA_DIR: dataDir });
  const u1001 = { appId: 'cli-app', token: token1001 };
  const u1002 = { appId: 'cli-app', token: token1002 };
  const groupFile = await uploadChat(running.url, u1001, { to_id: '40', to_type: 2 }, Buffer.from('from the cli group'));
  const readByAdmin = await fetch(withCreds(groupFile, u1002));
  assert.equal(await readByAdmin.text(), 'from the cli group');
  assert.equal((await api(running.url, '/file/upload/avatar/group', { group_id: '40' }, u1002)).body.code, 200, 'the CLI made 1002 a group admin');

  // Changed while the server runs: a new member gets access, and loses it on removal. The
  // server keeps a membership answer for half a second (docs/membership.md: another process's
  // change is in force within a second), so the check waits that long, no longer.
  const u1003 = { appId: 'cli-app', token: token1003 };
  assert.equal((await getJson(withCreds(groupFile, u1003))).body.code, 10010);
  await ok('member', 'add', '--app', 'cli-app', '--group', '40', '--user', '1003');
  await eventually(async () => assert.equal(await (await fetch(withCreds(groupFile, u1003))).text(), 'from the cli group'), 20, 50);
  await ok('member', 'remove', '--app', 'cli-app', '--group', '40', '--user', '1003');
  await eventually(async () => assert.equal((await getJson(withCreds(groupFile, u1003))).body.code, 10010), 20, 50);

  // A new app and an admin token made by the CLI while the server runs.
  await ok('app', 'create', '--app-id', 'cli-live');
  const admin = (await ok<{ token: string }>('token', '--app', 'cli-live', '--user', '1', '--role', 'admin')).token;
  const slot = await api<Slot>(running.url, '/file/upload/chat', { file_type: 100, to_id: '2', user_id: '9007199254740993' }, { appId: 'cli-live', token: admin });
  assert.equal(slot.body.code, 200, JSON.stringify(slot.body));
  assert.equal(signClaims(slot.body.data.download_url).from_id, '9007199254740993');
  // The apps stay apart: a cli-app token is nothing in cli-live.
  assert.equal((await api(running.url, '/file/upload/avatar/user', {}, { appId: 'cli-live', token: token1001 })).body.code, 10008);
});

test('serve runs Ferry from the build: it answers with what the CLI made and stops cleanly on SIGTERM', async () => {
  const { token } = await ok<{ token: string }>('token', '--app', 'cli-app', '--user', '1001');
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: cliEnv(settings({ FERRY_HOST: '127.0.0.1', FERRY_PORT: '0', FERRY_LOG_LEVEL: 'info' })),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    // pino writes one JSON line per entry on stdout; the first-start help is plain text.
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('ferry serve did not log "ferry is listening" within 30 s')), 30_000);
      child.once('exit', (code) => reject(new Error(`ferry serve exited with ${code} before listening`)));
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        if (!line.startsWith('{')) return;
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'ferry is listening' && entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      });
    });
    const slot = await api<Slot>(url, '/file/upload/chat', { file_type: 100, to_id: '1002' }, { appId: 'cli-app', token });
    assert.equal(slot.body.code, 200, JSON.stringify(slot.body));
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, 'a SIGTERM ends ferry serve with exit code 0');
});
