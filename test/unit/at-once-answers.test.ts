// The answers the hot paths take at once, without an await, before falling back to the full
// check: a quota-free app's slot (pipelines/app-settings.ts) and a download of the original
// (pipelines/derivatives.ts). Each must answer only where the full check would have given the
// same answer without reading anything. (The access rules' and credentials' own: in
// access-rules.test.ts and credentials.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newSettingsCache, noQuotaToCheck } from '../../src/pipelines/app-settings.ts';
import { parseMediaRequest, resolveMedia, resolveMediaNow } from '../../src/pipelines/derivatives.ts';
import type { ReadyFile } from '../../src/pipelines/ready-file.ts';
import type { Services } from '../../src/services.ts';
import { FerryError } from '../../src/errors.ts';

test('noQuotaToCheck: only for an app whose settings are at hand and set no quota', () => {
  const settings = newSettingsCache();
  const s = { settings };
  assert.equal(noQuotaToCheck(s, 'a'), false, 'settings not read yet: the full check reads them');
  settings.set('a', { retention_days: {}, quota: {} });
  assert.equal(noQuotaToCheck(s, 'a'), true);
  settings.set('b', { retention_days: {}, quota: { app_bytes: 10 } });
  settings.set('c', { retention_days: {}, quota: { user_daily_bytes: 10 } });
  assert.equal(noQuotaToCheck(s, 'b'), false);
  assert.equal(noQuotaToCheck(s, 'c'), false);
});

const file = (contentType: string): ReadyFile => ({
  id: 'f1',
  appId: 'a',
  kind: 'chat',
  fileType: 100,
  ownerId: '1001',
  toId: '1002',
  toType: 1,
  slotId: 's1',
  slotExpiresAt: 0,
  status: 'ready',
  storageKey: 'files/f/f1',
  size: 10,
  sha256: 'x'.repeat(64),
  contentType,
  fileName: 'f',
  createdAt: 0,
  completedAt: 0,
});

test('resolveMediaNow: the original at once, as resolveMedia gives it; anything to make or look up is left to resolveMedia', async () => {
  // resolveMedia needs nothing of the services to serve an original.
  const s = {} as Services;
  for (const [ct, query] of [
    ['image/jpeg', {}],
    ['image/jpeg', { image_type: '1' }],
    ['audio/amr', { format: 'amr' }],
    ['application/pdf', { image_type: '1', w: '100' }],
  ] as const) {
    const m = parseMediaRequest(query);
    const now = resolveMediaNow(file(ct), m);
    assert.ok(now, `${ct} ${JSON.stringify(query)}`);
    assert.deepEqual(now, await resolveMedia(s, file(ct), m));
  }
  assert.equal(resolveMediaNow(file('image/jpeg'), parseMediaRequest({ image_type: '2' })), undefined);
  assert.equal(resolveMediaNow(file('audio/amr'), parseMediaRequest({ format: 'mp3' })), undefined);
  // A request resolveMedia refuses is refused at once too, with the same code.
  const bad = parseMediaRequest({ format: 'mp3' });
  const code = (run: () => unknown) => {
    try {
      run();
      return 'answered';
    } catch (err) {
      return err instanceof FerryError ? err.code : String(err);
    }
  };
  const slow = await resolveMedia(s, file('image/jpeg'), bad).then(() => 'answered', (err: unknown) => (err instanceof FerryError ? err.code : String(err)));
  assert.notEqual(slow, 'answered');
  assert.equal(code(() => resolveMediaNow(file('image/jpeg'), bad)), slow);
});
