// contentDisposition names the file a browser saves. The header must stay plain ASCII (no
// header injection, no mojibake), carry an ASCII fallback for old agents, and the exact UTF-8
// name in RFC 5987 form, so a Chinese voice file name survives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { contentDisposition } from '../../src/http/serve-file.ts';
import { isInlineSafe } from '../../src/media/sniff.ts';

/** The filename*=UTF-8''… value, decoded. */
function extendedName(header: string): string {
  const m = /filename\*=UTF-8''([^;\s]*)$/.exec(header);
  assert.ok(m, `no filename* in ${header}`);
  return decodeURIComponent(m[1]!);
}

test('语音.amr: ASCII fallback plus the exact UTF-8 name', () => {
  assert.equal(contentDisposition('inline', '语音.amr'), `inline; filename="__.amr"; filename*=UTF-8''%E8%AF%AD%E9%9F%B3.amr`);
  assert.equal(extendedName(contentDisposition('attachment', '语音.amr')), '语音.amr');
});

test('a plain ASCII name is the same in both forms', () => {
  assert.equal(contentDisposition('attachment', 'report-2024.pdf'), `attachment; filename="report-2024.pdf"; filename*=UTF-8''report-2024.pdf`);
});

test('quotes, backslashes and line breaks cannot break out of the header', () => {
  const h = contentDisposition('attachment', 'a"b\\c\r\nSet-Cookie: x=1.html');
  assert.doesNotMatch(h, /[\r\n]/);
  assert.match(h, /^attachment; filename="a_b_c__Set-Cookie: x=1\.html"; filename\*=UTF-8''/);
  assert.equal(extendedName(h), 'a"b\\c\r\nSet-Cookie: x=1.html');
});

test("RFC 5987 attr-chars only: ' ( ) * are percent-encoded too", () => {
  const h = contentDisposition('attachment', "it's (final)*.txt");
  assert.ok(h.endsWith(`filename*=UTF-8''it%27s%20%28final%29%2A.txt`), h);
});

test('property: any name gives a printable-ASCII header whose filename* decodes to the name', () => {
  fc.assert(
    fc.property(fc.constantFrom('inline' as const, 'attachment' as const), fc.string({ unit: 'binary', maxLength: 80 }), (kind, name) => {
      const h = contentDisposition(kind, name);
      assert.match(h, /^[\x20-\x7e]*$/);
      assert.ok(h.startsWith(`${kind}; filename="`));
      const fallback = /^[a-z]+; filename="([^"]*)"; filename\*=/.exec(h);
      assert.ok(fallback, h);
      assert.doesNotMatch(fallback[1]!, /["\\]/);
      assert.match(/filename\*=UTF-8''(.*)$/.exec(h)![1]!, /^[A-Za-z0-9!#$&+\-.^_`|~%]*$/);
      assert.equal(extendedName(h), name);
    }),
  );
});

test('only media and plain text may be inline; markup, scripts and unknown bytes are attachments', () => {
  for (const t of ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'audio/amr', 'audio/mpeg', 'video/mp4', 'video/webm']) assert.ok(isInlineSafe(t), t);
  for (const t of ['text/html', 'image/svg+xml', 'application/xml', 'text/xml', 'application/javascript', 'application/pdf', 'application/octet-stream', 'application/xhtml+xml', '']) {
    assert.equal(isInlineSafe(t), false, t);
  }
});
