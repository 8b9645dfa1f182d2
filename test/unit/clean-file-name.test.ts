// cleanFileName keeps the name a client gave its upload, for Content-Disposition only: never a
// path, never a control character or quote, never a placeholder like "undefined" or "blob", and
// bounded without cutting a character in half.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cleanFileName, servedFileName } from '../../src/file-names.ts';
import { dispositionOf, type Servable } from '../../src/pipelines/servable.ts';

const contentDisposition = (_kind: 'inline' | 'attachment', name: string) =>
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

const BIDI_AND_INVISIBLE = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c', '\u0085', '\u009b', '\u2028', '\u2029', '\u200b', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u{e0041}'];

test('bidi controls, C1 controls, line separators and zero-width characters are removed', () => {
  // "‮gpj.exe" shows as "exe.jpg" in a right-to-left override.
  assert.equal(cleanFileName('\u202egpj.exe'), 'gpj.exe');
  assert.equal(cleanFileName('in\u2066voice\u2069\u200b.pdf\u200f'), 'invoice.pdf');
  for (const c of BIDI_AND_INVISIBLE) assert.equal(cleanFileName(`a${c}b.txt`), 'ab.txt', `U+${c.codePointAt(0)!.toString(16)}`);
  assert.equal(cleanFileName('\u202e\u200b'), null);
});

test('property: no control or format character survives, wherever it is put', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 30 }), fc.array(fc.constantFrom(...BIDI_AND_INVISIBLE), { minLength: 1, maxLength: 5 }), fc.nat(), (s, inserted, at) => {
      const chars = [...s];
      for (const c of inserted) chars.splice(at % (chars.length + 1), 0, c);
      const name = cleanFileName(chars.join(''));
      if (name !== null) assert.doesNotMatch(name, /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
    }),
  );
});

test('served names end in the extension of the served type; names that already do are kept', () => {
  assert.equal(servedFileName('x.html', 'image/jpeg'), 'x.jpg');
  assert.equal(servedFileName('photo.JPG', 'image/jpeg'), 'photo.JPG');
  assert.equal(servedFileName('photo.jpeg', 'image/jpeg'), 'photo.jpeg');
  assert.equal(servedFileName('clip', 'video/mp4'), 'clip.mp4');
  assert.equal(servedFileName('archive.tar.gz', 'video/quicktime'), 'archive.tar.mov');
  assert.equal(servedFileName('.hidden', 'image/png'), '.hidden.png');
  assert.equal(servedFileName(null, 'audio/amr'), 'file.amr');
  assert.equal(servedFileName('notes.txt', 'text/plain; charset=utf-8'), 'notes.txt');
  // Types without a known extension (attachments) keep their name.
  assert.equal(servedFileName('gpj.exe', 'application/octet-stream'), 'gpj.exe');
  assert.equal(servedFileName(null, 'application/octet-stream'), 'file');
});

test('property: a served media name ends in one of its type\'s extensions and keeps the rest of the name', () => {
  const types: Array<[string, string[]]> = [
    ['image/jpeg', ['jpg', 'jpeg', 'jpe', 'jfif']],
    ['image/png', ['png']],
    ['video/mp4', ['mp4', 'm4v']],
    ['audio/mpeg', ['mp3']],
  ];
  fc.assert(
    fc.property(fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: null }), fc.constantFrom(...types), (raw, [type, exts]) => {
      const name = cleanFileName(raw);
      const served = servedFileName(name, type);
      const ext = /\.([^.]*)$/.exec(served)?.[1]?.toLowerCase();
      assert.ok(ext !== undefined && exts.includes(ext), `${JSON.stringify(served)} for ${type}`);
      if (name !== null) assert.ok(served.startsWith(name.replace(/\.[^.]*$/, '')), `${served} keeps ${name}`);
      assert.doesNotThrow(() => contentDisposition('inline', served));
    }),
  );
});
