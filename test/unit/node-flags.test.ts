// The Node.js flags of a serving process (src/cluster/node-flags.ts): `npm start` and the
// workers' flags agree, and an operator's own choice wins over Ferry's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { SERVING_ENV, SERVING_NODE_FLAGS, workerEnv, workerExecArgv } from '../../src/cluster/node-flags.ts';

test('npm start passes every serving flag before dist/main.js, and sets every serving variable unless already set', () => {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const all = pkg.scripts.start!.split(/\s+/);
  const node = all.indexOf('node');
  const assignments = all.slice(0, node);
  for (const [k, v] of Object.entries(SERVING_ENV)) assert.ok(assignments.includes(`${k}=\${${k}:-${v}}`), `${k} in "${pkg.scripts.start}"`);
  const words = all.slice(node);
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
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=4']), ['--max-semi-space-size=4']);
  assert.deepEqual(workerExecArgv(['--max_semi_space_size=8']), ['--max_semi_space_size=8']);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512  --max-semi-space-size=32'), []);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512'), [...SERVING_NODE_FLAGS], 'other flags do not count');
});

test("a worker's environment gets MALLOC_ARENA_MAX=2 unless the operator set it", () => {
  assert.deepEqual(SERVING_ENV, { MALLOC_ARENA_MAX: '2' });
  assert.deepEqual(workerEnv({}), { MALLOC_ARENA_MAX: '2' });
  assert.deepEqual(workerEnv({ MALLOC_ARENA_MAX: '' }), { MALLOC_ARENA_MAX: '2' }, 'empty counts as unset');
  assert.deepEqual(workerEnv({ MALLOC_ARENA_MAX: '8', PATH: '/bin' }), {});
});
