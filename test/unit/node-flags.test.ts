// The Node.js flags of a serving process (src/cluster/node-flags.ts): `npm start` and the
// workers' flags agree, and an operator's own choice wins over Ferry's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { SERVING_NODE_FLAGS, workerExecArgv } from '../../src/cluster/node-flags.ts';

test('npm start passes every serving flag before dist/main.js', () => {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const words = pkg.scripts.start!.split(/\s+/);
  assert.equal(words[0], 'node');
  const main = words.indexOf('dist/main.js');
  assert.ok(main > 0, pkg.scripts.start);
  for (const flag of SERVING_NODE_FLAGS) assert.ok(words.slice(1, main).includes(flag), `${flag} in "${pkg.scripts.start}"`);
});

test("a worker gets the primary's flags plus the serving flags", () => {
  assert.deepEqual(workerExecArgv([]), [...SERVING_NODE_FLAGS]);
  assert.deepEqual(workerExecArgv(['--enable-source-maps']), ['--enable-source-maps', ...SERVING_NODE_FLAGS]);
  // npm start already passed them: not twice.
  assert.deepEqual(workerExecArgv(['--enable-source-maps', ...SERVING_NODE_FLAGS]), ['--enable-source-maps', ...SERVING_NODE_FLAGS]);
});

test("the operator's own setting wins, on the command line or in NODE_OPTIONS, in either spelling", () => {
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=16']), ['--max-semi-space-size=16']);
  assert.deepEqual(workerExecArgv(['--max_semi_space_size=8']), ['--max_semi_space_size=8']);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512  --max-semi-space-size=32'), []);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512'), [...SERVING_NODE_FLAGS], 'other flags do not count');
});
