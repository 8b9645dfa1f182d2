// cleanFileName keeps the name a client gave its upload, for Content-Disposition only: never a
// path, never a control character or quote, never a placeholder like "undefined" or "blob", and
// bounded without cutting a character in half.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cleanFileName } from '../../src/pipelines/upload.ts';
import { dispositionOf, type Servable } from '../../src/pipelines/servable.ts';

const contentDisposition = (_kind: 'attachment', name: string) =>
  dispositionOf({ appId: 'a', fileId: 'f', variant: null, storageKey: 'k', size: 1, sha256: '0'.repeat(64), contentType: 'application/octet-stream', fileName: name } satisfies Servable);

/** No lone surrogate: half an emoji cannot be UTF-8 encoded into a header. */
const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

test('ordinary names, Chinese included, are kept', () => {
  assert.equal(cleanFileName('photo.jpg'), 'photo.jpg');
  assert.equal(cleanFileName('语音.amr'), '语音.amr');
  assert.equal(cleanFileName('  spaced name.txt  '), 'spaced name.txt');
});

test('only the last path segment survives, for / and \\ alike', () => {
  assert.equal(cleanFileName('../../etc/passwd'), 'passwd');
  assert.equal(cleanFileName('C:\\Users\\me\\Desktop\\a.txt'), 'a.txt');
  assert.equal(cleanFileName('dir/'), null);
});

test('control characters, DEL and double quotes are removed', () => {
  assert.equal(cleanFileName('a"b\r\n\t\u0000\u007fc.txt'), 'abc.txt');
});

test('no name, dot names and the placeholders clients send are no name at all', () => {
  for (const n of [null, '', '   ', '.', '..', 'undefined', 'blob', '\u0000\u0001']) assert.equal(cleanFileName(n), null, JSON.stringify(n));
});

test('long names are cut to 200 characters', () => {
  assert.equal(cleanFileName('a'.repeat(500))!.length, 200);
});

test('a cut never splits an emoji: the result is still valid UTF-16 and makes a header', () => {
  const name = cleanFileName(`${'a'.repeat(199)}😀😀.txt`)!;
  assert.ok(wellFormed(name), 'no lone surrogate');
  assert.ok([...name].length <= 200);
  assert.doesNotThrow(() => contentDisposition('attachment', name));
});

test('property: the result is null or a non-empty, path-free, quote-free, well-formed name of at most 200 characters', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 400 }),
        // names that reach the 200-character cut with astral characters right at the boundary
        fc.tuple(fc.integer({ min: 190, max: 210 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 20 })).map(([n, tail]) => 'a'.repeat(n) + tail),
      ),
      (raw) => {
      const name = cleanFileName(raw);
      if (name === null) return;
      assert.ok(name.length > 0);
      assert.ok([...name].length <= 200);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(name, /[\\/"\u0000-\u001f\u007f]/);
      assert.ok(wellFormed(name));
      assert.doesNotThrow(() => contentDisposition('attachment', name));
      },
    ),
  );
});
