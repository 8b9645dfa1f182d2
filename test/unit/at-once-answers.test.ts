// The answers the hot paths take at once, without an await, before falling back to the full
// check: a quota-free app's slot (pipelines/app-settings.ts), a chat slot (pipelines/slots.ts)
// and a download of the original (pipelines/derivatives.ts). Each must answer only where the full check would have given the
// same answer without reading anything. (The access rules' and credentials' own: in
// access-rules.test.ts and credentials.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newSettingsCache, noQuotaToCheck } from '../../src/pipelines/app-settings.ts';
import { parseMediaRequest, resolveMedia, resolveMediaNow } from '../../src/pipelines/derivatives.ts';
import type { ReadyFile } from '../../src/pipelines/ready-file.ts';
import type { Services } from '../../src/services.ts';
import { FerryError } from '../../src/errors.ts';
import { issueChatSlot, issueChatSlotNow } from '../../src/pipelines/slots.ts';
import { fileTypeInfo } from '../../src/file-types.ts';
import { hs256Signer } from '../../src/auth/jwt-sign.ts';
import { readSlotCapability, verifySlotCapability } from '../../src/auth/slot-capability.ts';
import { PublicUrls } from '../../src/public-urls.ts';
import type { AppKeys } from '../../src/auth/app-registry.ts';
import type { Caller, Principal } from '../../src/auth/credentials.ts';

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

test('issueChatSlotNow: a slot at once only where issueChatSlot reads nothing, and the same slot; else undefined, or the same refusal', async () => {
  const signKey = 'at-once-sign-key-0123456789abcdefghijklmnopq';
  const settings = newSettingsCache();
  settings.set('free', { retention_days: {}, quota: {} });
  settings.set('quota', { retention_days: {}, quota: { app_bytes: 10 } });
  settings.set('direct', { retention_days: {}, quota: {} });
  // Every read fails: whatever answers here read nothing.
  const refuse = () => Promise.reject(new Error('read'));
  const s = {
    config: { slotTtlSeconds: 600, limits: { file: 1000, voice: 2000, image: 3000, video: 4000 }, directUploadApps: new Set(['direct']) },
    settings,
    bytes: { directUploads: {} },
    urls: new PublicUrls('https://files.example'),
    membership: new Proxy({}, { get: () => refuse }),
    meta: new Proxy({}, { get: () => refuse }),
  } as unknown as Services;
  const caller = (appId: string, principal: Partial<Principal> = {}): Caller => ({
    principal: { kind: 'user', appId, userId: '1001', ...principal } as Principal,
    keys: { app: { appId, signKey }, sign: hs256Signer(signKey, 'k') } as unknown as AppKeys,
  });
  const toUser = { type: fileTypeInfo(100), toId: '1002', toType: 1 } as const;
  const verified = (url: string) => verifySlotCapability([signKey], readSlotCapability(url.slice(url.lastIndexOf('/') + 1)));
  const now = issueChatSlotNow(s, caller('free'), toUser);
  assert.ok(now);
  const full = await issueChatSlot(s, caller('free'), toUser);
  const { fileId: _a, expiresAt: _b, ...claimsNow } = verified(now.upload_url);
  const { fileId: _c, expiresAt: _d, ...claimsFull } = verified(full.upload_url);
  assert.deepEqual(claimsNow, claimsFull);
  assert.deepEqual(claimsNow, { appId: 'free', kind: 'chat', fileType: 100, ownerId: '1001', toId: '1002', toType: 1, maxBytes: s.config.limits[toUser.type.limit] });
  assert.equal(now.upload_method, 'POST');
  // A group (membership to look up), quotas to read, a direct upload (a record to write), or
  // settings not read yet: left to issueChatSlot.
  assert.equal(issueChatSlotNow(s, caller('free'), { ...toUser, toType: 2 }), undefined);
  assert.equal(issueChatSlotNow(s, caller('free', { kind: 'group-admin', groupId: '5' } as Partial<Principal>), toUser), undefined);
  assert.equal(issueChatSlotNow(s, caller('quota'), toUser), undefined);
  assert.equal(issueChatSlotNow(s, caller('direct'), toUser), undefined);
  assert.equal(issueChatSlotNow(s, caller('unread'), toUser), undefined);
  // A group shared file sent to a user is refused at once, as issueChatSlot refuses it.
  const shared = { ...toUser, type: fileTypeInfo(200) };
  const slow = await issueChatSlot(s, caller('free'), shared).then(() => 'answered', (err: unknown) => (err instanceof FerryError ? err.code : String(err)));
  assert.throws(() => issueChatSlotNow(s, caller('free'), shared), (err: unknown) => err instanceof FerryError && err.code === slow);
});
