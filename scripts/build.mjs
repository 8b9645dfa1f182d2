#!/usr/bin/env node
// Compiles the server (dist/main.js), the `ferry` command line (dist/cli.js) and the operator
// console (dist/console/) to plain JavaScript (esbuild, well under a second), so neither `npm start` nor `npx ferry` runs a
// TypeScript loader: less memory per node (~35 MB) and a faster start. Packages stay external
// (node_modules); dynamic imports (the S3 and PostgreSQL drivers, migrate-store, `ferry serve`)
// become separate chunks that load only when used.
//
// Runs from `npm start` (prestart), `npm run build`, and `prepare` (after `npm install`/`npm ci`).
// esbuild is a devDependency: with `--prepare` and no esbuild (an `npm ci --omit=dev` of a
// checkout whose dist/ was built elsewhere) it leaves dist/ as it is instead of failing.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist');

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
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  await buildConsole(path.join(tmp, 'console'));
  if (fs.existsSync(outdir)) fs.renameSync(outdir, old);
  fs.renameSync(tmp, outdir);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(old, { recursive: true, force: true });
}
