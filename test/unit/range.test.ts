// parseRange decides between 206, 200 and 416 for every download: Android resumes with
// "bytes=N-", browsers seek with "bytes=a-b", and anything Ferry will not serve as one part
// (several ranges, other units, nonsense) must fall back to the whole file, never to an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRange } from '../../src/pipelines/servable.ts';

test('no header, or an empty one, means the whole file', () => {
  assert.equal(parseRange(undefined, 100), null);
  assert.equal(parseRange('', 100), null);
});

test('bytes=N- runs to the last byte', () => {
  assert.deepEqual(parseRange('bytes=0-', 100), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=40-', 100), { start: 40, end: 99 });
  assert.deepEqual(parseRange('bytes=99-', 100), { start: 99, end: 99 });
});

test('bytes=a-b is inclusive, and an end past the file is clamped to the last byte', () => {
  assert.deepEqual(parseRange('bytes=0-0', 100), { start: 0, end: 0 });
  assert.deepEqual(parseRange('bytes=10-19', 100), { start: 10, end: 19 });
  assert.deepEqual(parseRange('bytes=90-1000', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=0-99999999999999999999999', 100), { start: 0, end: 99 });
});

test('suffix bytes=-n is the last n bytes, or the whole file when n is larger', () => {
  assert.deepEqual(parseRange('bytes=-1', 100), { start: 99, end: 99 });
  assert.deepEqual(parseRange('bytes=-30', 100), { start: 70, end: 99 });
  assert.deepEqual(parseRange('bytes=-100', 100), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=-5000', 100), { start: 0, end: 99 });
});

test('a start at or past the end, or an empty suffix, is unsatisfiable (416)', () => {
  assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=100-200', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=99999999999999999999999-', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  assert.equal(parseRange('bytes=-5', 0), 'unsatisfiable');
});

test('several ranges, other units, reversed or malformed ranges: the whole file (RFC 9110 14.2)', () => {
  for (const h of ['bytes=0-1,5-6', 'bytes=0-1, -5', 'items=0-5', 'bytes=5-2', 'bytes=-', 'bytes=a-b', 'bytes=1.5-2', 'bytes 0-5', 'bytes=0x10-']) {
    assert.equal(parseRange(h, 100), null, h);
  }
});

test('surrounding whitespace is tolerated', () => {
  assert.deepEqual(parseRange('  bytes=1-2 ', 100), { start: 1, end: 2 });
});

test('property: every satisfiable single range comes back exactly', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2 ** 40 }).chain((size) =>
        fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })).chain(([s, a]) => fc.tuple(fc.constant(s), fc.constant(a), fc.integer({ min: a, max: s - 1 }))),
      ),
      ([size, a, b]) => {
        assert.deepEqual(parseRange(`bytes=${a}-${b}`, size), { start: a, end: b });
        assert.deepEqual(parseRange(`bytes=${a}-`, size), { start: a, end: size - 1 });
      },
    ),
  );
});

test('property: any header at all gives null, 416, or a range inside the file; never a throw', () => {
  const header = fc.oneof(
    fc.string({ unit: 'binary-ascii' }),
    fc.tuple(fc.option(fc.nat(), { nil: undefined }), fc.option(fc.nat(), { nil: undefined })).map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`),
    fc.array(fc.tuple(fc.nat(1000), fc.nat(1000)), { minLength: 1, maxLength: 4 }).map((rs) => `bytes=${rs.map(([a, b]) => `${a}-${b}`).join(',')}`),
  );
  fc.assert(
    fc.property(header, fc.nat(10_000), (h, size) => {
      const r = parseRange(h, size);
      if (r === null || r === 'unsatisfiable') return;
      assert.ok(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end));
      assert.ok(r.start >= 0 && r.start <= r.end && r.end < size, `${h} on ${size}: ${JSON.stringify(r)}`);
    }),
  );
});
