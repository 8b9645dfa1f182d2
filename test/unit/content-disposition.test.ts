// The name a browser saves a download under, and whether it may show it inline. The header
// comes from the content-disposition library: plain ASCII names as they are, any other name
// with an ASCII fallback plus the exact UTF-8 name in RFC 5987 form, so a Chinese voice file
// name survives; no header injection, whatever the name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dispositionOf, linkName, servedName, type Servable } from '../../src/pipelines/servable.ts';
import { isInlineSafe } from '../../src/content-types.ts';
import { servedFileName } from '../../src/file-names.ts';

const file = (fileName: string | null, contentType = 'application/octet-stream'): Servable => ({
  appId: 'a',
  fileId: 'f',
  variant: null,
  storageKey: 'files/f/f',
  size: 1,
  sha256: '0'.repeat(64),
  contentType,
  fileName,
});

/** The filename*=UTF-8''… value, decoded, or the plain quoted name when there is none. */
function savedName(header: string): string {
  const ext = /filename\*=UTF-8''([^;\s]*)$/.exec(header);
  if (ext) return decodeURIComponent(ext[1]!);
  const plain = /filename="((?:[^"\\]|\\.)*)"/.exec(header);
  assert.ok(plain, header);
  return plain[1]!.replace(/\\(.)/g, '$1');
}

test('语音.amr: ASCII fallback plus the exact UTF-8 name; voice is inline', () => {
  const h = dispositionOf(file('语音.amr', 'audio/amr'));
  assert.match(h, /^inline; filename="\?\?\.amr"; filename\*=UTF-8''%E8%AF%AD%E9%9F%B3\.amr$/);
  assert.equal(savedName(h), '语音.amr');
});

test('a plain ASCII name is sent as it is; unknown bytes are an attachment', () => {
  assert.equal(dispositionOf(file('report-2024.pdf')), 'attachment; filename="report-2024.pdf"');
});

test('without an uploaded name, the file is called file.EXT after its type', () => {
  assert.equal(servedName(file(null, 'image/jpeg')), 'file.jpg');
  assert.equal(servedName(file(null)), 'file');
});

test('a link name ends in the extension of the type it is served as', () => {
  assert.equal(linkName(file('holiday.JPG', 'image/jpeg')), 'holiday.jpg');
  assert.equal(linkName(file('x.html', 'image/png')), 'x.png');
  assert.equal(linkName(file(null, 'image/jpeg')), 'file.jpg');
  assert.equal(linkName(file('notes.txt')), 'notes.txt');
});

test('property: any name gives a header without line breaks that names the file exactly, as a .png', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }).filter((n) => n.length > 0 && !/[\\/]/.test(n)), (name) => {
      const h = dispositionOf(file(name, 'image/png'));
      assert.doesNotMatch(h, /[\r\n]/);
      assert.ok(h.startsWith('inline; filename="'), h);
      assert.equal(savedName(h), servedFileName(name, 'image/png'));
    }),
  );
});

test('only media (but HEIC) and plain text may be inline; markup, scripts and unknown bytes are attachments', () => {
  for (const t of ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'audio/amr', 'audio/mpeg', 'video/mp4', 'video/webm']) assert.ok(isInlineSafe(t), t);
  for (const t of ['text/html', 'image/svg+xml', 'image/heic', 'application/xml', 'text/xml', 'application/javascript', 'application/pdf', 'application/octet-stream', 'application/xhtml+xml', '']) {
    assert.equal(isInlineSafe(t), false, t);
  }
});
