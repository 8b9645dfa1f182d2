#!/usr/bin/env node
// Compiles the server (dist/main.js), the `ferry` command line (dist/cli.js) and the operator
// console (dist/console/) to plain JavaScript (esbuild, well under a second), so neither
// `npm start` nor `npx ferry` runs a TypeScript loader: less memory per node (~35 MB) and a
// faster start. Packages stay external (node_modules) but for the few in INLINED below; dynamic
// imports (the S3 and PostgreSQL drivers, migrate-store, `ferry serve`) become separate chunks
// that load only when used.
//
// Runs from `npm start` (prestart, with --if-changed), `npm run build`, and `prepare` (after
// `npm install`/`npm ci`). With --if-changed it builds only when the sources changed since the
// build in dist/ (a hash of src/, this script and the lockfile, kept in dist/.build-hash), so a
// restart after a crash starts at once and prints nothing.
// esbuild is a devDependency: with `--prepare` and no esbuild (an `npm ci --omit=dev` of a
// checkout whose dist/ was built elsewhere) it leaves dist/ as it is instead of failing.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist');
const STAMP = '.build-hash';

/** What the build depends on: every file under src/ (names and bytes), this script, the lockfile. */
function sourceHash() {
  const h = createHash('sha256');
  const add = (rel) => {
    h.update(`${rel}\0`);
    h.update(fs.readFileSync(path.join(root, rel)));
    h.update('\0');
  };
  const walk = (dir) => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.isFile()) add(rel);
    }
  };
  walk('src');
  add('scripts/build.mjs');
  add('package-lock.json');
  return h.digest('hex');
}

const hash = sourceHash();
if (process.argv.includes('--if-changed')) {
  let built = '';
  try {
    built = fs.readFileSync(path.join(outdir, STAMP), 'utf8').trim();
  } catch {
    // no build yet
  }
  if (built === hash && fs.existsSync(path.join(outdir, 'main.js')) && fs.existsSync(path.join(outdir, 'cli.js'))) process.exit(0);
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (err) {
  if (!process.argv.includes('--prepare') || err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write('build: esbuild is not installed (devDependencies omitted), dist/ left as it is\n');
  process.exit(0);
}

/**
 * The operator console (console/, served at /console by src/http/routes/console.ts): Preact
 * components in TSX bundled for the browser into one script, plus the static page and style
 * sheet. No CDN and nothing inline, so the page runs offline under a strict CSP.
 */
async function buildConsole(dir) {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { app: 'console/src/main.tsx' },
    outdir: dir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const name of fs.readdirSync(path.join(root, 'console', 'public'))) {
    fs.copyFileSync(path.join(root, 'console', 'public', name), path.join(dir, name));
  }
}

/**
 * Packages compiled into dist/ instead of loaded from node_modules. Each is pure JavaScript
 * published as hundreds of small ES modules (TypeBox 683 at start, Kysely 263): Node keeps every
 * module's source, its module records and its top-level code, so loaded one by one they held
 * about 15 MB of a serving process's 110 MB at rest; bundled, esbuild keeps only what Ferry uses.
 * The type provider comes along, or it would load TypeBox from node_modules a second time.
 * Everything else stays external: native addons (sharp, better-sqlite3), the drivers loaded only
 * when configured (pg, the AWS SDK), and CommonJS packages, whose modules are few.
 */
const INLINED = new Set(['typebox', 'kysely', '@fastify/type-provider-typebox']);

/** esbuild's `packages: 'external'`, except for the packages named. */
function externalExcept(inlined) {
  return {
    name: 'external-except',
    setup(build) {
      // bare specifiers only (node:*, packages): relative and absolute paths are Ferry's own
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        const parts = args.path.split('/');
        const name = args.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
        return inlined.has(name) ? undefined : { path: args.path, external: true };
      });
    },
  };
}

// Build next to dist/ and swap it in whole, so a Ferry or a CLI running from dist/ never sees a
// half-written folder (and chunks of an older build do not linger).
const tmp = `${outdir}.tmp-${process.pid}`;
const old = `${outdir}.old-${process.pid}`;
fs.rmSync(tmp, { recursive: true, force: true });
try {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: 'src/main.ts', cli: 'src/cli/main.ts' },
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [externalExcept(INLINED)],
    sourcemap: true,
    logLevel: 'warning',
  });
  await buildConsole(path.join(tmp, 'console'));
  fs.writeFileSync(path.join(tmp, STAMP), `${hash}\n`);
  if (fs.existsSync(outdir)) fs.renameSync(outdir, old);
  fs.renameSync(tmp, outdir);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(old, { recursive: true, force: true });
}
