#!/usr/bin/env node
// Compiles the server to plain JavaScript in dist/ (esbuild, well under a second), so `npm start`
// runs without a TypeScript loader in the process: less memory per node (~35 MB) and a faster
// start. Packages stay external (node_modules); dynamic imports (the S3 and PostgreSQL drivers)
// become separate chunks that load only when configured.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist');
fs.rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts'],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
