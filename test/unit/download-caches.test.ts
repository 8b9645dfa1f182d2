// The per-object download caches (src/pipelines/download-caches.ts) are found by storage key,
// but an entry is only ever given to a record that would make the same answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headersOf, keepRedirect, keptRedirect, newDownloadCaches } from '../../src/pipelines/download-caches.ts';
import type { Servable } from '../../src/pipelines/servable.ts';

const file: Servable = { appId: 'a', fileId: 'f1', variant: null, storageKey: 'k1', size: 3, sha256: 'ab'.repeat(32), contentType: 'image/png', fileName: 'cat.png' };

test('headers: made once per record; a record sharing the key but not a name, type or hash gets its own', () => {
  const c = newDownloadCaches();
  let made = 0;
  const make = (f: Servable) => ({ n: String(++made), name: f.fileName ?? '' });
  assert.equal(headersOf(c, file, make).n, '1');
  assert.equal(headersOf(c, { ...file }, make).n, '1', 'an equal record (a new object per request): the kept headers');
  assert.ok(Object.isFrozen(headersOf(c, file, make)));
  for (const other of [{ ...file, fileName: 'dog.png' }, { ...file, fileName: null }, { ...file, contentType: 'image/jpeg' }, { ...file, sha256: 'cd'.repeat(32) }]) {
    const before = made;
    const h = headersOf(c, other, make);
    assert.equal(made, before + 1, JSON.stringify(other));
    assert.equal(h.name, other.fileName ?? '');
  }
});

test('redirects: kept only for the same record, variant, window and keys, and only while reusable', () => {
  const c = newDownloadCaches();
  const keys = {};
  keepRedirect(c, file, 1000, { location: 'https://x/1', reusableUntilMs: 5000, keys });
  assert.equal(keptRedirect(c, { ...file }, 1000, keys, 4999)?.location, 'https://x/1');
  assert.equal(keptRedirect(c, file, 1000, keys, 5000), undefined, 'no longer reusable');
  assert.equal(keptRedirect(c, file, 2000, keys, 0), undefined, 'another window');
  assert.equal(keptRedirect(c, file, 'presigned', keys, 0), undefined, 'another kind');
  assert.equal(keptRedirect(c, file, 1000, {}, 0), undefined, 'other keys (equal, not the same)');
  for (const other of [{ ...file, fileId: 'f2' }, { ...file, appId: 'b' }, { ...file, variant: 'mp3' }, { ...file, fileName: 'dog.png' }, { ...file, contentType: 'image/jpeg' }]) {
    assert.equal(keptRedirect(c, other, 1000, keys, 0), undefined, JSON.stringify(other));
  }
  const presigned = { location: 'https://bucket/k1?sig', reusableUntilMs: 9000, keys: null };
  keepRedirect(c, file, 'presigned', presigned);
  assert.equal(keptRedirect(c, file, 'presigned', null, 1)?.location, presigned.location);
});
