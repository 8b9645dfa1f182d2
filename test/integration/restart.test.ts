// A fast, quiet restart and a command line that finds the server's data: `npm start`'s build
// step does nothing when the sources did not change, and what it builds carries TypeBox and
// Kysely inside; ensure-deps never runs apt-get when the tools are there; the CLI looks for the
// database where `npm start` keeps it, refuses to make a second, empty one, says in one line
// when PostgreSQL is down; and its key commands (rotate-secret, revoke-tokens) reach a Ferry
// that is already running on the same data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startTestFerry, isScaleOut, type TestFerry } from '../helpers/ferry.ts';
import { provision, type Provisioned } from '../helpers/storage-mode.ts';
import { withCreds } from '../helpers/client.ts';
import { accessToken, decodeJwt, signOf, uploadChat } from '../helpers/jwt.ts';
import { buildDist } from '../helpers/build.ts';
import { cliEnv, runCli } from '../helpers/cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let tmp: string;
let mode: Provisioned;

before(async () => {
  buildDist();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-restart-'));
  mode = await provision();
});
after(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await mode.release();
});

const cli = (env: Record<string, string | undefined>, args: string[], cwd = ROOT) => runCli(args, env, { cwd });

test('the build step of npm start does nothing when the sources are unchanged, and rebuilds when they changed', () => {
  const main = path.join(ROOT, 'dist', 'main.js');
  const build = (...args: string[]) => spawnSync(process.execPath, ['scripts/build.mjs', ...args], { cwd: ROOT, encoding: 'utf8' });
  const before = fs.statSync(main).ino;
  const quiet = build('--if-changed');
  assert.equal(quiet.status, 0);
  assert.equal(quiet.stdout + quiet.stderr, '', 'a restart prints nothing');
  assert.equal(fs.statSync(main).ino, before, 'dist/ was not rebuilt (the build swaps in a new folder)');
  // What a change of src/ looks like to it: a different hash.
  fs.writeFileSync(path.join(ROOT, 'dist', '.build-hash'), 'stale\n');
  assert.equal(build('--if-changed').status, 0);
  assert.notEqual(fs.statSync(main).ino, before, 'rebuilt');
  assert.match(fs.readFileSync(path.join(ROOT, 'dist', '.build-hash'), 'utf8'), /^[0-9a-f]{64}\n$/);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.prestart ?? '', /build\.mjs --if-changed/);
});

test('a serving process runs TypeBox and Kysely from dist/, not as hundreds of modules from node_modules', async () => {
  // A loader hook that writes down every module the process loads.
  const loaded = path.join(tmp, 'loaded.txt');
  const hooks = path.join(tmp, 'hooks.mjs');
  fs.writeFileSync(hooks, `import fs from 'node:fs';\nexport async function load(url, context, next) { fs.appendFileSync(${JSON.stringify(loaded)}, url + '\\n'); return next(url, context); }\n`);
  const register = path.join(tmp, 'register.mjs');
  fs.writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const dataDir = path.join(tmp, 'modules-data');
  const env = cliEnv({ FERRY_HOST: '127.0.0.1', FERRY_PORT: '0', FERRY_WORKERS: '1', FERRY_LOG_LEVEL: 'warn', FERRY_DATA_DIR: dataDir });
  const child = spawn(process.execPath, ['--import', register, 'dist/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Ferry is running at (http:\/\/\S+?)\.?\s/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`Ferry exited (${code}) before it listened: ${out}`)));
    });
    // It answers, schemas (TypeBox) and database (Kysely) included: a body the schema refuses
    // and one it takes and the database stores.
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    assert.equal((await fetch(`${url}/openapi.json`)).status, 200);
    const key = fs.readFileSync(path.join(dataDir, 'admin.key'), 'utf8').trim();
    const createApp = (body: unknown) => fetch(`${url}/admin/apps`, { method: 'POST', headers: { 'x-admin-key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const refused = await createApp({ app_id: 5 });
    assert.equal(refused.status, 400);
    assert.deepEqual(await refused.json(), { error: 'body/app_id must be string' });
    const created = await createApp({ app_id: 'built' });
    assert.equal(created.status, 201);
    assert.equal(((await created.json()) as { app_id: string }).app_id, 'built');
    assert.equal((await fetch(`${url}/admin/apps/built`, { headers: { 'x-admin-key': key } })).status, 200);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
  const urls = fs.readFileSync(loaded, 'utf8').trim().split('\n');
  assert.ok(urls.some((u) => u.endsWith('/dist/main.js')), 'the hook saw the process load');
  assert.ok(urls.some((u) => u.includes('/node_modules/')), 'the hook saw packages load from node_modules');
  for (const pkg of ['typebox', 'kysely', '@fastify/type-provider-typebox']) {
    assert.deepEqual(urls.filter((u) => u.includes(`/node_modules/${pkg}/`)), [], `${pkg} comes compiled into dist/`);
  }
});

test('ensure-deps --start never runs apt-get (nor npm ci) when the tools and packages are there', () => {
  const bin = fs.mkdtempSync(path.join(tmp, 'bin-'));
  const marker = path.join(tmp, 'ran');
  const script = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  for (const tool of ['ffmpeg', 'ffprobe', 'heif-convert']) script(tool, 'exit 0');
  script('apt-get', `echo apt-get >> ${marker}; exit 1`);
  script('npm', `echo npm >> ${marker}; exit 1`);
  // A codec package dpkg says is missing: reported, not installed.
  script('dpkg-query', 'echo -n "unknown ok not-installed"; exit 0');
  const r = spawnSync(process.execPath, ['scripts/ensure-deps.mjs', '--start'], {
    cwd: ROOT,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.existsSync(marker), false, `ran: ${fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : ''}`);
  assert.match(r.stderr, /libavcodec-extra is not installed/);
});

test('the CLI looks for the database where npm start keeps it, never in the current folder, and makes no empty one', async (t) => {
  if (isScaleOut(mode.env)) {
    t.diagnostic('PostgreSQL mode: there is no database file to look for');
    return;
  }
  const cwd = fs.mkdtempSync(path.join(tmp, 'cwd-'));
  const rootDb = path.join(ROOT, 'data', 'ferry.sqlite');
  const r = await cli({ FERRY_DATA_DIR: undefined }, ['token', '--app', 'nope', '--user', '1'], cwd);
  if (fs.existsSync(rootDb)) {
    assert.equal(r.code, 3, 'the project folder has a database: the app is looked up there');
  } else {
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(rootDb), `names where it looked: ${r.stderr}`);
    assert.match(r.stderr, /FERRY_DATA_DIR is unset/);
    assert.equal(fs.existsSync(rootDb), false, 'no empty database made');
  }
  assert.deepEqual(fs.readdirSync(cwd), [], 'nothing made in the current folder');

  // A FERRY_DATA_DIR without a database: refused for every command but app create.
  const empty = path.join(tmp, 'empty-data');
  for (const args of [
    ['token', '--app', 'a', '--user', '1'],
    ['group', '--app', 'a', '--group', '1', '--owner', '1'],
    ['app', 'rotate-secret', '--app', 'a'],
    ['revoke-tokens', '--app', 'a', '--user', '1'],
  ]) {
    const x = await cli({ FERRY_DATA_DIR: empty }, args);
    assert.equal(x.code, 2, `${args.join(' ')}: ${x.stderr}`);
    assert.ok(x.stderr.includes(path.join(empty, 'ferry.sqlite')));
    assert.equal(x.stdout, '');
  }
  assert.equal(fs.existsSync(empty), false, 'the folder was not even created');
  const made = await cli({ FERRY_DATA_DIR: empty }, ['app', 'create', '--app-id', 'first']);
  assert.equal(made.code, 0, made.stderr);
  assert.ok(fs.existsSync(path.join(empty, 'ferry.sqlite')));
});

test('the CLI with PostgreSQL down prints one clear line, not a stack trace', async () => {
  const r = await cli({ FERRY_DATABASE_URL: 'postgres://ferry:ferry@127.0.0.1:1/ferry', FERRY_DATA_DIR: tmp }, ['token', '--app', 'a', '--user', '1']);
  assert.equal(r.code, 5, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^ferry: the database is not available: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('ferry app rotate-secret and ferry revoke-tokens reach a Ferry already running on the same data', async () => {
  const dataDir = path.join(tmp, 'shared');
  const env = { ...mode.env, FERRY_DATA_DIR: dataDir };
  const created = await cli(env, ['app', 'create', '--app-id', 'live']);
  assert.equal(created.code, 0, created.stderr);
  const running: TestFerry = await startTestFerry(env);
  try {
    const u1 = { appId: 'live', token: await running.token('live', '1') };
    const url = await uploadChat(running.url, u1, { to_id: '2' }, Buffer.from('live'));
    const code = async (creds: { appId: string; token: string }) => {
      const res = await fetch(withCreds(url, creds), { redirect: 'manual' });
      const text = await res.text();
      return res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as { code: number }).code : res.status === 302 ? 200 : res.status;
    };
    assert.equal(await code(u1), 200);

    const revoked = await cli(env, ['revoke-tokens', '--app', 'live', '--user', '1']);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((JSON.parse(revoked.stdout) as { user_id: string }).user_id, '1');
    const t0 = Date.now();
    while ((await code(u1)) !== 10008) {
      assert.ok(Date.now() - t0 < 2500, 'refused within about a second');
      await new Promise((r) => setTimeout(r, 50));
    }

    const future = await cli(env, ['revoke-tokens', '--app', 'live', '--user', '1', '--before', String(Date.now() + 60_000)]);
    assert.equal(future.code, 2);
    assert.match(future.stderr, /future/);
    assert.equal((await cli(env, ['app', 'rotate-secret', '--app', 'nope'])).code, 3);

    const rotated = await cli(env, ['app', 'rotate-secret', '--app', 'live', '--grace', '0']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const out = JSON.parse(rotated.stdout) as { secret: string; sign_kid: string };
    const fresh = { appId: 'live', token: accessToken(out.secret, { app: 'live', sub: '2' }) };
    const t1 = Date.now();
    while ((await code(fresh)) !== 200) {
      assert.ok(Date.now() - t1 < 2500, 'the new secret works within about a second');
      await new Promise((r) => setTimeout(r, 50));
    }
    const newUrl = await uploadChat(running.url, fresh, { to_id: '1' });
    assert.equal(decodeJwt(signOf(newUrl)).header.kid, out.sign_kid);
  } finally {
    await running.close();
  }
});
