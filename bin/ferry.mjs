#!/usr/bin/env node
// `npx ferry …`: the operator's command line, run from the build in dist/ (plain JavaScript, no
// TypeScript loader, so it answers quickly). `npm install`, `npm start` and `npm run build` make it.
import fs from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!fs.existsSync(cli)) {
  process.stderr.write('ferry: dist/cli.js is missing; run `npm run build` (or `npm install`) in the Ferry folder first\n');
  process.exit(1);
}
// Stack traces name src/*.ts lines, as `npm start` (node --enable-source-maps) does.
process.setSourceMapsEnabled(true);
await import(cli.href);
