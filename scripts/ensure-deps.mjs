#!/usr/bin/env node
// Runs before `npm start`, `npm test` and `npm run bench`: installs what Ferry needs on a fresh
// clone. npm packages come from the lockfile (npm ci) whenever it changed since the last
// install; system tools come from Debian's packages via apt-get when running as root, and
// otherwise we stop with a message naming the packages. Plain node, no dependencies: this runs
// before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));

// command → Debian package that provides it
const SYSTEM_TOOLS = {
  // heif-convert decodes iPhone HEIC (sharp's libheif has no HEVC); heif-enc makes test HEICs
  // chromium: the console's end-to-end test drives Debian's browser through playwright-core
  test: { ffmpeg: 'ffmpeg', ffprobe: 'ffmpeg', 'heif-convert': 'libheif-examples', 'heif-enc': 'libheif-examples', chromium: 'chromium' },
  start: { ffmpeg: 'ffmpeg', ffprobe: 'ffmpeg', 'heif-convert': 'libheif-examples' },
  bench: { ffmpeg: 'ffmpeg', 'heif-convert': 'libheif-examples', nginx: 'nginx-light', wrk: 'wrk', curl: 'curl', vipsthumbnail: 'libvips-tools' },
};
// Debian packages with no command of their own to look for
const SYSTEM_PACKAGES = {
  test: ['libavcodec-extra'],
  start: ['libavcodec-extra'],
  bench: ['libavcodec-extra'],
};

function log(msg) {
  process.stderr.write(`ensure-deps: ${msg}\n`);
}

function ensureNodeModules() {
  const lock = path.join(root, 'package-lock.json');
  const stamp = path.join(root, 'node_modules', '.ferry-lock-hash');
  const want = createHash('sha256').update(fs.readFileSync(lock)).digest('hex');
  let have = '';
  try {
    have = fs.readFileSync(stamp, 'utf8').trim();
  } catch {
    // first install
  }
  if (have === want) return;
  log('installing npm dependencies from package-lock.json (npm ci; better-sqlite3 compiles, ~2 min)…');
  const res = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) {
    log('npm ci failed; see the output above');
    process.exit(res.status ?? 1);
  }
  fs.writeFileSync(stamp, `${want}\n`);
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function debInstalled(pkg) {
  const res = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return res.status === 0 && res.stdout.includes('install ok installed');
}

function ensureSystemTools(kind) {
  const tools = SYSTEM_TOOLS[kind] ?? {};
  const missing = new Set();
  for (const [cmd, pkg] of Object.entries(tools)) if (!has(cmd)) missing.add(pkg);
  const extras = has('dpkg-query') ? (SYSTEM_PACKAGES[kind] ?? []).filter((pkg) => !debInstalled(pkg)) : [];
  // Every command is there: apt-get never runs (a restart after a crash must not depend on the
  // network or on a package mirror). A missing codec package is only reported.
  if (missing.size === 0) {
    if (extras.length > 0) log(`note: ${extras.join(' ')} is not installed (some audio/video codecs may be missing): apt-get install -y ${extras.join(' ')}`);
    return;
  }
  for (const pkg of extras) missing.add(pkg);
  const pkgs = [...missing];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !has('apt-get')) {
    log(`missing system packages: ${pkgs.join(' ')}`);
    log(`install them first, e.g.: sudo apt-get install -y ${pkgs.join(' ')}`);
    process.exit(1);
  }
  log(`installing ${pkgs.join(' ')} with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
}

const kind = args.has('--bench') ? 'bench' : args.has('--start') ? 'start' : 'test';
ensureNodeModules();
ensureSystemTools(kind);
