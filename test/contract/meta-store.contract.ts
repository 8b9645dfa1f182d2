// The MetaStore contract: what every metadata store must do, whatever sits below it. One suite,
// run against every implementation (meta-store.test.ts picks the ones the current test pass
// provides), the way tus-node-server runs one suite over all its stores. Every case gets a
// fresh, migrated store from the factory, so cases never see each other's rows.
//
// Adding a case: one `it(name, async (meta) => …)` in the section it belongs to.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AlreadyExistsError, type FileRecord, type FileRef, type MetaRecord, type MetaStore, type UsageDay, type UsageKind } from '../../src/meta/meta-store.ts';

export interface MetaStoreHarness {
  store: MetaStore;
  /** close the store and drop what the factory created */
  dispose(): Promise<void>;
}

/** A fresh store with an up-to-date schema and no rows. */
export type MetaStoreFactory = () => Promise<MetaStoreHarness>;

/** int64 ids JS numbers cannot hold: 2^63-1, and 2^53+1 beside its rounding neighbour 2^53 */
const INT64_MAX = '9223372036854775807';
const ABOVE_2_53 = '9007199254740993';
const ROUNDED_2_53 = '9007199254740992';

/** a fixed clock: every case passes its own "now", so nothing depends on the wall clock */
const T0 = 1_900_000_000_000;
const MINUTE = 60_000;

const rid = (prefix: string) => `${prefix}${randomBytes(8).toString('hex')}`;

function fileRecord(over: Partial<FileRecord> = {}): FileRecord {
  const id = over.id ?? rid('f');
  return {
    id,
    appId: 'app1',
    kind: 'chat',
    fileType: 100,
    ownerId: '1001',
    toId: '1002',
    toType: 1,
    slotId: rid('s'),
    slotExpiresAt: T0 + 60 * MINUTE,
    status: 'pending',
    storageKey: `files/${id.slice(-1)}/${id}`,
    size: null,
    sha256: null,
    contentType: null,
    fileName: null,
    createdAt: T0,
    completedAt: null,
    width: null,
    height: null,
    durationMs: null,
    ...over,
  };
}

const done = {
  size: 5 * 1024 * 1024 * 1024 + 7, // above 2^32: the column must be 64-bit
  sha256: 'ab'.repeat(32),
  contentType: 'image/png',
  fileName: '图片 1.png',
  width: 640,
  height: 480,
  durationMs: null,
};

export function metaStoreContract(name: string, fresh: MetaStoreFactory): void {
  /** a test with its own fresh store */
  const it = (title: string, fn: (meta: MetaStore) => Promise<void>) =>
    test(title, async () => {
      const h = await fresh();
      try {
        await fn(h.store);
      } finally {
        await h.dispose();
      }
    });

  /** a file that is uploading, claimed at `at` */
  async function uploading(meta: MetaStore, at = T0, over: Partial<FileRecord> = {}): Promise<FileRecord> {
    const f = fileRecord(over);
    await meta.createFile(f);
    const claim = await meta.claimSlot(f.slotId, at, at - MINUTE);
    assert.ok(claim.ok, 'the fresh slot is claimed');
    return f;
  }

  async function ready(meta: MetaStore, over: Partial<FileRecord> = {}): Promise<FileRecord> {
    const f = await uploading(meta, T0, over);
    return meta.completeUpload(f.id, done, T0 + 1000);
  }

  describe(`MetaStore contract: ${name}`, () => {
    describe('schema', () => {
      it('migrate() may run again on an up-to-date schema and changes nothing', async (meta) => {
        await meta.createApp({ appId: 'app1', secret: 's', signKey: 'k', createdAt: T0 });
        await meta.migrate();
        assert.equal((await meta.getApp('app1'))?.secret, 's');
      });
    });

    describe('apps', () => {
      it('createApp then getApp gives the record back exactly; an unknown app is null', async (meta) => {
        const app = { appId: 'app-1_A', secret: 'secret '.repeat(10), signKey: 'sign-key', createdAt: T0 + 123 };
        await meta.createApp(app);
        assert.deepEqual(await meta.getApp('app-1_A'), app);
        assert.equal(await meta.getApp('app-2'), null);
      });

      it('creating an app id that exists throws AlreadyExistsError and keeps the first record', async (meta) => {
        await meta.createApp({ appId: 'dup', secret: 'first', signKey: 'k1', createdAt: T0 });
        await assert.rejects(meta.createApp({ appId: 'dup', secret: 'second', signKey: 'k2', createdAt: T0 + 1 }), AlreadyExistsError);
        assert.deepEqual(await meta.getApp('dup'), { appId: 'dup', secret: 'first', signKey: 'k1', createdAt: T0 });
      });

      it('app ids are case-sensitive', async (meta) => {
        await meta.createApp({ appId: 'Chat', secret: 'upper', signKey: 'k', createdAt: T0 });
        assert.equal(await meta.getApp('chat'), null);
        await meta.createApp({ appId: 'chat', secret: 'lower', signKey: 'k', createdAt: T0 });
        assert.equal((await meta.getApp('Chat'))?.secret, 'upper');
        assert.equal((await meta.getApp('chat'))?.secret, 'lower');
      });
    });

    describe('operations: key rotation and token revocation', () => {
      it('a new app has a keyring with nothing retired; an unknown app has none', async (meta) => {
        await meta.createApp({ appId: 'app1', secret: 's0', signKey: 'k0', createdAt: T0 });
        const k = await meta.getAppKeyring('app1');
        assert.deepEqual(k, {
          app: { appId: 'app1', secret: 's0', signKey: 'k0', createdAt: T0 },
          version: 0,
          previousSecret: null,
          retiredSignKeys: [],
          revocations: [],
          slotRevocations: [],
        });
        assert.equal(await meta.getAppKeysVersion('app1'), 0);
        assert.equal(await meta.getAppKeyring('nope'), null);
        assert.equal(await meta.getAppKeysVersion('nope'), null);
      });

      it('rotation replaces both keys, keeps the previous secret until its end and every retired sign key, and moves the version', async (meta) => {
        await meta.createApp({ appId: 'app1', secret: 's0', signKey: 'k0', createdAt: T0 });
        assert.equal(await meta.rotateAppKeys('app1', { secret: 's1', signKey: 'k1' }, T0 + MINUTE, T0), true);
        assert.equal(await meta.rotateAppKeys('app1', { secret: 's2', signKey: 'k2' }, T0 + 3 * MINUTE, T0 + 2 * MINUTE), true);
        const k = await meta.getAppKeyring('app1');
        assert.deepEqual(k?.app, { appId: 'app1', secret: 's2', signKey: 'k2', createdAt: T0 });
        assert.deepEqual(k?.previousSecret, { secret: 's1', until: T0 + 3 * MINUTE }, 'only the secret replaced last is kept');
        assert.deepEqual(k?.retiredSignKeys, [
          { signKey: 'k1', retiredAt: T0 + 2 * MINUTE },
          { signKey: 'k0', retiredAt: T0 },
        ]);
        assert.equal(k?.version, 2);
        assert.equal(await meta.getAppKeysVersion('app1'), 2);
        assert.deepEqual(await meta.getApp('app1'), { appId: 'app1', secret: 's2', signKey: 'k2', createdAt: T0 });
        assert.equal(await meta.rotateAppKeys('nope', { secret: 'x', signKey: 'y' }, T0, T0), false);
      });

      it('a revocation is kept per user, only ever moves later, and moves the version', async (meta) => {
        await meta.createApp({ appId: 'app1', secret: 's0', signKey: 'k0', createdAt: T0 });
        assert.equal(await meta.revokeTokens('app1', INT64_MAX, T0), true);
        assert.equal(await meta.revokeTokens('app1', INT64_MAX, T0 - MINUTE), true);
        assert.equal(await meta.revokeTokens('app1', '7', T0 + MINUTE), true);
        const k = await meta.getAppKeyring('app1');
        assert.deepEqual(
          [...(k?.revocations ?? [])].sort((a, b) => a.before - b.before),
          [
            { userId: INT64_MAX, before: T0 },
            { userId: '7', before: T0 + MINUTE },
          ],
        );
        assert.equal(k?.version, 3);
        assert.equal(await meta.revokeTokens('nope', '7', T0), false);
        assert.deepEqual(k?.slotRevocations, [], 'a token revocation is not a slot revocation');
      });

      it('a slot revocation is kept per user apart from token revocations, only ever moves later, and moves the version', async (meta) => {
        await meta.createApp({ appId: 'app1', secret: 's0', signKey: 'k0', createdAt: T0 });
        assert.equal(await meta.revokeSlots('app1', '7', T0), true);
        assert.equal(await meta.revokeSlots('app1', '7', T0 - MINUTE), true);
        assert.equal(await meta.revokeSlots('app1', INT64_MAX, T0 + MINUTE), true);
        const k = await meta.getAppKeyring('app1');
        assert.deepEqual(
          [...(k?.slotRevocations ?? [])].sort((a, b) => a.before - b.before),
          [
            { userId: '7', before: T0 },
            { userId: INT64_MAX, before: T0 + MINUTE },
          ],
        );
        assert.deepEqual(k?.revocations, [], "the user's tokens stay valid");
        assert.equal(k?.version, 3);
        assert.equal(await meta.revokeSlots('nope', '7', T0), false);
      });

      it('export and import carry retired sign keys, the previous secret and both kinds of revocation', async (meta) => {
        await meta.createApp({ appId: 'app1', secret: 's0', signKey: 'k0', createdAt: T0 });
        await meta.rotateAppKeys('app1', { secret: 's1', signKey: 'k1' }, T0 + MINUTE, T0);
        await meta.revokeTokens('app1', '7', T0);
        await meta.revokeSlots('app1', '8', T0 + MINUTE);
        const records = [];
        for await (const r of meta.exportRecords()) records.push(r);
        const keyring = records.find((r) => r.kind === 'keyring');
        assert.deepEqual(keyring, {
          kind: 'keyring',
          keyring: {
            appId: 'app1',
            previousSecret: { secret: 's0', until: T0 + MINUTE },
            retiredSignKeys: [{ signKey: 'k0', retiredAt: T0 }],
            revocations: [{ userId: '7', before: T0 }],
            slotRevocations: [{ userId: '8', before: T0 + MINUTE }],
          },
        });
        assert.equal(records.findIndex((r) => r.kind === 'keyring'), records.findIndex((r) => r.kind === 'app') + 1, 'right after its app');
        // Into an app with the current keys only (as migrate-store has just imported it).
        await meta.createApp({ appId: 'app2', secret: 's1', signKey: 'k1', createdAt: T0 });
        assert.equal(await meta.importRecord({ kind: 'keyring', keyring: { ...keyring.keyring, appId: 'app2' } }), true);
        const k2 = await meta.getAppKeyring('app2');
        assert.deepEqual(k2?.retiredSignKeys, [{ signKey: 'k0', retiredAt: T0 }]);
        assert.deepEqual(k2?.previousSecret, { secret: 's0', until: T0 + MINUTE });
        assert.deepEqual(k2?.revocations, [{ userId: '7', before: T0 }]);
        assert.deepEqual(k2?.slotRevocations, [{ userId: '8', before: T0 + MINUTE }]);
        assert.equal(await meta.importRecord({ kind: 'keyring', keyring: { ...keyring.keyring, appId: 'app2' } }), false, 'again: nothing new');
      });
    });

    describe('console lists', () => {
      it('listApps pages through every app in app_id order, after is exclusive, no app twice', async (meta) => {
        const ids = ['k03', 'a01', 'z99', 'm20', 'b02', 'a00', 'q55'];
        for (const [i, appId] of ids.entries()) await meta.createApp({ appId, secret: `s${i}`, signKey: 'k', createdAt: T0 + i });
        const seen: string[] = [];
        let after: string | undefined;
        for (let page = 0; page < 10; page++) {
          const apps = await meta.listApps({ after, limit: 3 });
          assert.ok(apps.length <= 3);
          seen.push(...apps.map((a) => a.appId));
          if (apps.length < 3) break;
          after = apps[apps.length - 1]!.appId;
        }
        assert.deepEqual(seen, [...ids].sort());
        const first = (await meta.listApps({ limit: 1 }))[0];
        assert.deepEqual(first, { appId: 'a00', secret: 's5', signKey: 'k', createdAt: T0 + 5 }, 'the whole record');
        assert.deepEqual(await meta.listApps({ after: 'z99', limit: 5 }), []);
      });

      it("listGroups pages an app's groups in numeric order (int64 ids too), filters by owner, never another app's, never a dissolved one", async (meta) => {
        const ids = ['10', '9', '100', '2', INT64_MAX, ABOVE_2_53, ROUNDED_2_53, '11'];
        for (const groupId of ids) await meta.putGroup({ appId: 'app1', groupId, ownerId: groupId === '9' || groupId === INT64_MAX ? '7' : '1001' });
        await meta.putGroup({ appId: 'app2', groupId: '5', ownerId: '7' });
        const numeric = [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
        const seen: string[] = [];
        let after: string | undefined;
        for (let page = 0; page < 10; page++) {
          const groups = await meta.listGroups('app1', { after, limit: 3 });
          seen.push(...groups.map((g) => g.groupId));
          if (groups.length < 3) break;
          after = groups[groups.length - 1]!.groupId;
        }
        assert.deepEqual(seen, numeric);
        assert.deepEqual(await meta.listGroups('app1', { limit: 10, ownerId: '7' }), [
          { appId: 'app1', groupId: '9', ownerId: '7' },
          { appId: 'app1', groupId: INT64_MAX, ownerId: '7' },
        ]);
        assert.deepEqual(await meta.listGroups('app1', { after: '9', limit: 10, ownerId: '7' }), [{ appId: 'app1', groupId: INT64_MAX, ownerId: '7' }]);
        assert.deepEqual((await meta.listGroups('app2', { limit: 10 })).map((g) => g.groupId), ['5']);
        assert.deepEqual(await meta.listGroups('app3', { limit: 10 }), []);
        // a dissolved group is not listed; created again, it is
        assert.ok(await meta.dismissGroup('app1', '9', T0));
        assert.deepEqual(await meta.listGroups('app1', { limit: 10, ownerId: '7' }), [{ appId: 'app1', groupId: INT64_MAX, ownerId: '7' }]);
        await meta.putGroup({ appId: 'app1', groupId: '9', ownerId: '7' });
        assert.equal((await meta.listGroups('app1', { limit: 10, ownerId: '7' })).length, 2);
      });
    });

    describe('groups and members', () => {
      it("putGroup creates the group and makes its owner a member with role owner; groups are per app", async (meta) => {
        await meta.putGroup({ appId: 'app1', groupId: '500', ownerId: '1001' });
        assert.deepEqual(await meta.getGroup('app1', '500'), { appId: 'app1', groupId: '500', ownerId: '1001' });
        assert.equal(await meta.getMemberRole('app1', '500', '1001'), 'owner');
        assert.equal(await meta.getGroup('app1', '501'), null);
        assert.equal(await meta.getGroup('app2', '500'), null, 'the same group id in another app is another group');
        assert.equal(await meta.getMemberRole('app2', '500', '1001'), null);
      });

      it('putGroup with a new owner moves ownership: the old owner stays as a plain member, one owner only', async (meta) => {
        await meta.putGroup({ appId: 'app1', groupId: '500', ownerId: '1001' });
        await meta.putMember('app1', '500', '1003', 'admin');
        await meta.putGroup({ appId: 'app1', groupId: '500', ownerId: '1002' });
        assert.equal((await meta.getGroup('app1', '500'))?.ownerId, '1002');
        assert.equal(await meta.getMemberRole('app1', '500', '1002'), 'owner');
        assert.equal(await meta.getMemberRole('app1', '500', '1001'), 'member');
        assert.equal(await meta.getMemberRole('app1', '500', '1003'), 'admin', 'other members keep their roles');
      });

      it('putGroup again with the same owner changes nothing', async (meta) => {
        await meta.putGroup({ appId: 'app1', groupId: '500', ownerId: '1001' });
        await meta.putMember('app1', '500', '1002', 'admin');
        await meta.putGroup({ appId: 'app1', groupId: '500', ownerId: '1001' });
        assert.equal(await meta.getMemberRole('app1', '500', '1001'), 'owner');
        assert.equal(await meta.getMemberRole('app1', '500', '1002'), 'admin');
      });

      it('putMember adds members and changes their role; non-members have no role', async (meta) => {
        await meta.putGroup({ appId: 'app1', groupId: '500', ownerId: '1001' });
        await meta.putMember('app1', '500', '1002', 'member');
        assert.equal(await meta.getMemberRole('app1', '500', '1002'), 'member');
        await meta.putMember('app1', '500', '1002', 'admin');
        assert.equal(await meta.getMemberRole('app1', '500', '1002'), 'admin');
        await meta.putMember('app1', '500', '1002', 'member');
        assert.equal(await meta.getMemberRole('app1', '500', '1002'), 'member');
        assert.equal(await meta.getMemberRole('app1', '500', '1003'), null);
        await meta.putGroup({ appId: 'app1', groupId: '501', ownerId: '1009' });
        assert.equal(await meta.getMemberRole('app1', '501', '1002'), null, 'membership is per group');
        assert.equal((await meta.getGroup('app1', '500'))?.ownerId, '1001', 'the owner is unchanged');
      });

      it('putMember with role owner moves ownership: the group names the new owner, the old one becomes a member', async (meta) => {
        await meta.putGroup({ appId: 'app1', groupId: '500', ownerId: '1001' });
        await meta.putMember('app1', '500', '1002', 'member');
        await meta.putMember('app1', '500', '1002', 'owner');
        assert.equal((await meta.getGroup('app1', '500'))?.ownerId, '1002');
        assert.equal(await meta.getMemberRole('app1', '500', '1002'), 'owner');
        assert.equal(await meta.getMemberRole('app1', '500', '1001'), 'member');
        // and to someone who was not a member yet
        await meta.putMember('app1', '500', '1003', 'owner');
        assert.equal((await meta.getGroup('app1', '500'))?.ownerId, '1003');
        assert.equal(await meta.getMemberRole('app1', '500', '1003'), 'owner');
        assert.equal(await meta.getMemberRole('app1', '500', '1002'), 'member');
      });

      it('removeMember says whether the member existed and leaves the others', async (meta) => {
        await meta.putGroup({ appId: 'app1', groupId: '500', ownerId: '1001' });
        await meta.putMember('app1', '500', '1002', 'member');
        await meta.putMember('app1', '500', '1003', 'admin');
        assert.equal(await meta.removeMember('app1', '500', '1002'), true);
        assert.equal(await meta.getMemberRole('app1', '500', '1002'), null);
        assert.equal(await meta.removeMember('app1', '500', '1002'), false);
        assert.equal(await meta.removeMember('app1', '500', '1999'), false);
        assert.equal(await meta.removeMember('app2', '500', '1003'), false, 'another app');
        assert.equal(await meta.getMemberRole('app1', '500', '1003'), 'admin');
        assert.equal(await meta.getMemberRole('app1', '500', '1001'), 'owner');
      });

      it('int64 group and user ids above 2^53 stay exact and distinct from their rounded neighbours', async (meta) => {
        await meta.putGroup({ appId: 'app1', groupId: INT64_MAX, ownerId: ABOVE_2_53 });
        assert.deepEqual(await meta.getGroup('app1', INT64_MAX), { appId: 'app1', groupId: INT64_MAX, ownerId: ABOVE_2_53 });
        assert.equal(await meta.getGroup('app1', '9223372036854775806'), null);
        assert.equal(await meta.getMemberRole('app1', INT64_MAX, ABOVE_2_53), 'owner');
        assert.equal(await meta.getMemberRole('app1', INT64_MAX, ROUNDED_2_53), null);
        await meta.putMember('app1', INT64_MAX, ROUNDED_2_53, 'admin');
        assert.equal(await meta.getMemberRole('app1', INT64_MAX, ROUNDED_2_53), 'admin');
        assert.equal(await meta.getMemberRole('app1', INT64_MAX, ABOVE_2_53), 'owner');
      });
    });

    describe('membership (issue 9)', () => {
      const m = (userId: string, role: 'member' | 'admin' | 'owner' = 'member', joinedAt: number | null = null) => ({ userId, role, joinedAt });

      it('replaceMembers replaces the whole list, creates the group, keeps join times; a version not above the stored one changes nothing', async (meta) => {
        let r = await meta.replaceMembers('app1', '600', [m('1', 'owner', T0), m('2'), m(INT64_MAX, 'admin', T0 + 5)], { version: 2, now: T0 });
        assert.deepEqual(r, { applied: true, version: 2, count: 3 });
        assert.deepEqual(await meta.getGroup('app1', '600'), { appId: 'app1', groupId: '600', ownerId: '1' });
        const listed = await meta.listMembers('app1', '600');
        assert.equal(listed?.version, 2);
        assert.equal(listed?.historyVisible, true);
        assert.deepEqual(listed?.members, [m('1', 'owner', T0), m('2'), m(INT64_MAX, 'admin', T0 + 5)]);
        r = await meta.replaceMembers('app1', '600', [m('9')], { version: 2, now: T0 });
        assert.deepEqual(r, { applied: false, version: 2 });
        assert.equal((await meta.listMembers('app1', '600'))?.members.length, 3);
        r = await meta.replaceMembers('app1', '600', [m('9')], { version: 3, now: T0 });
        assert.equal(r.applied, true);
        assert.deepEqual((await meta.listMembers('app1', '600'))?.members, [m('9')]);
        assert.equal(await meta.getMemberRole('app1', '600', '1'), null);
        assert.equal(await meta.listMembers('app1', '601'), null);
      });

      it('replaceMembers writes 20,000 members in batches; addMembers adds without removing', async (meta) => {
        const many = Array.from({ length: 20_000 }, (_, i) => m(String(100_000 + i)));
        await meta.replaceMembers('app1', '602', many, { now: T0 });
        assert.equal((await meta.listMembers('app1', '602'))?.members.length, 20_000);
        await meta.addMembers('app1', '602', [m('100000', 'admin'), m('5')], T0);
        assert.equal((await meta.listMembers('app1', '602'))?.members.length, 20_001);
        assert.equal(await meta.getMemberRole('app1', '602', '100000'), 'admin');
      });

      it('getMembership reads group, member and answer; dismissGroup removes members and answers; setHistoryVisible', async (meta) => {
        await meta.replaceMembers('app1', '603', [m('1', 'owner', T0)], { now: T0 });
        await meta.putMembershipAnswer('app1', '603', '7', { member: true, role: 'admin', joinedAt: T0 + 1, askedAt: T0 + 2 });
        let facts = await meta.getMembership('app1', '603', '1');
        assert.deepEqual(facts, { dismissed: false, group: { ownerId: '1', version: null, historyVisible: true }, member: { role: 'owner', joinedAt: T0 }, answer: null });
        facts = await meta.getMembership('app1', '603', '7');
        assert.deepEqual(facts.answer, { member: true, role: 'admin', joinedAt: T0 + 1, askedAt: T0 + 2 });
        await meta.putMembershipAnswer('app1', '603', '7', { member: false, role: null, joinedAt: null, askedAt: T0 + 3 });
        assert.deepEqual((await meta.getMembership('app1', '603', '7')).answer, { member: false, role: null, joinedAt: null, askedAt: T0 + 3 });
        assert.equal(await meta.setHistoryVisible('app1', '603', false), true);
        assert.equal((await meta.getMembership('app1', '603', '1')).group?.historyVisible, false);
        assert.equal(await meta.dismissGroup('app1', '603', T0 + 10), true);
        assert.equal(await meta.dismissGroup('app1', '603', T0 + 11), false);
        facts = await meta.getMembership('app1', '603', '1');
        assert.deepEqual(facts, { dismissed: true, group: null, member: null, answer: null });
        assert.equal(await meta.getGroup('app1', '603'), null);
        assert.equal(await meta.setHistoryVisible('app1', '603', true), false);
        // a push makes it again
        await meta.replaceMembers('app1', '603', [m('2', 'owner')], { now: T0 });
        assert.equal((await meta.getMembership('app1', '603', '2')).dismissed, false);
      });

      it('applyMembershipChanges: in `at` order per (group, user), idempotent, dismissal fences older joins, recorded events once', async (meta) => {
        let out = await meta.applyMembershipChanges('app1', [
          { type: 'member.joined', groupId: '604', userId: '1', role: 'owner', at: T0 },
          { type: 'member.joined', groupId: '604', userId: '2', role: 'member', at: T0 + 1 },
          { type: 'member.role', groupId: '604', userId: '2', role: 'admin', at: T0 + 2 },
          { type: 'member.joined', groupId: '604', userId: '2', role: 'member', at: T0 + 1 },
        ], T0);
        assert.deepEqual(out, ['applied', 'applied', 'applied', 'unchanged']);
        assert.deepEqual((await meta.getMembership('app1', '604', '2')).member, { role: 'admin', joinedAt: T0 + 1 });
        assert.equal((await meta.getGroup('app1', '604'))?.ownerId, '1');
        out = await meta.applyMembershipChanges('app1', [
          { type: 'member.left', groupId: '604', userId: '2', at: T0 + 5 },
          { type: 'member.joined', groupId: '604', userId: '2', role: 'member', at: T0 + 4 },
          { type: 'group.settings', groupId: '604', historyVisible: false, at: T0 + 6 },
        ], T0);
        assert.deepEqual(out, ['applied', 'unchanged', 'applied']);
        assert.equal(await meta.getMemberRole('app1', '604', '2'), null);
        assert.equal((await meta.listMembers('app1', '604'))?.historyVisible, false);
        out = await meta.applyMembershipChanges('app1', [
          { type: 'group.dismissed', groupId: '604', purgeFiles: false, at: T0 + 10 },
          { type: 'member.joined', groupId: '604', userId: '3', role: 'member', at: T0 + 9 },
          { type: 'message.recalled', urls: ['u1'], at: T0 + 3 },
          { type: 'message.recalled', urls: ['u1'], at: T0 + 3 },
          { type: 'user.deleted', userId: '1', at: T0 + 11 },
        ], T0 + 20);
        assert.deepEqual(out, ['applied', 'unchanged', 'recorded', 'unchanged', 'recorded']);
        assert.equal(await meta.getGroup('app1', '604'), null);
        const rec = await meta.listRecordedEvents('app1', 10);
        assert.deepEqual(rec.map((e) => [e.type, e.at, e.receivedAt]), [['message.recalled', T0 + 3, T0 + 20], ['user.deleted', T0 + 11, T0 + 20]]);
        assert.deepEqual(await meta.listRecordedEvents('app2', 10), []);
      });

      it('user.deleted takes the user out of every group of the app (not of other apps)', async (meta) => {
        await meta.replaceMembers('app1', '605', [m('1', 'owner'), m('8')], { now: T0 });
        await meta.replaceMembers('app1', '606', [m('1', 'owner'), m('8')], { now: T0 });
        await meta.replaceMembers('app2', '605', [m('8', 'owner')], { now: T0 });
        await meta.applyMembershipChanges('app1', [{ type: 'user.deleted', userId: '8', at: T0 }], T0);
        assert.equal(await meta.getMemberRole('app1', '605', '8'), null);
        assert.equal(await meta.getMemberRole('app1', '606', '8'), null);
        assert.equal(await meta.getMemberRole('app2', '605', '8'), 'owner');
      });

      it('export and import carry group state, join times, membership_url, the event clock and recorded events; not the answers', async (meta) => {
        await meta.createApp({ appId: 'app1', secret: 's', signKey: 'k', createdAt: T0 });
        await meta.setMembershipUrl('app1', 'https://im.example/ferry');
        await meta.replaceMembers('app1', '610', [m('1', 'owner', T0), m('2', 'member', T0 + 7)], { version: 5, now: T0 });
        await meta.setHistoryVisible('app1', '610', false);
        await meta.replaceMembers('app1', '611', [m('1', 'owner')], { now: T0 });
        await meta.applyMembershipChanges('app1', [
          { type: 'member.joined', groupId: '610', userId: '3', role: 'member', at: T0 + 9 },
          { type: 'group.dismissed', groupId: '612', purgeFiles: true, at: T0 + 10 },
          { type: 'message.recalled', urls: ['u1'], at: T0 + 3 },
        ], T0 + 20);
        await meta.putMembershipAnswer('app1', '611', '8', { member: true, role: 'member', joinedAt: null, askedAt: T0 });
        const records: MetaRecord[] = [];
        for await (const r of meta.exportRecords()) records.push(r);
        const kinds = records.map((r) => r.kind);
        assert.deepEqual(records[kinds.indexOf('app') + 1], { kind: 'membership-url', appId: 'app1', url: 'https://im.example/ferry' }, 'right after its app');
        const states = records.filter((r) => r.kind === 'group-state');
        assert.deepEqual(states, [
          { kind: 'group-state', appId: 'app1', groupId: '610', version: 5, historyVisible: false, dismissedAt: null },
          { kind: 'group-state', appId: 'app1', groupId: '612', version: null, historyVisible: true, dismissedAt: T0 + 10 },
        ], 'only groups not in a new group\'s state');
        assert.equal(kinds.indexOf('group-state'), kinds.indexOf('group') + 1, 'right after its group');
        const members = records.filter((r) => r.kind === 'member' && r.groupId === '610');
        assert.deepEqual(members.map((r) => r.kind === 'member' && [r.userId, r.joinedAt]), [['1', T0], ['2', T0 + 7], ['3', T0 + 9]]);
        const clock = records.filter((r) => r.kind === 'membership-clock');
        assert.ok(clock.some((c) => c.kind === 'membership-clock' && c.groupId === '610' && c.userId === '3' && c.at === T0 + 9), JSON.stringify(clock));
        const events = records.filter((r) => r.kind === 'recorded-event');
        assert.deepEqual(events.map((e) => e.kind === 'recorded-event' && e.event.type).sort(), ['group.dismissed', 'message.recalled'], 'a purge and a recall are recorded');
        assert.ok(kinds.lastIndexOf('member') < kinds.indexOf('membership-clock'), 'members before the history');
        assert.ok(!JSON.stringify(records).includes('askedAt'), 'the remembered answers are a cache: not exported');

        // Into a second store, as migrate-store does; a second run adds nothing.
        const target = await fresh();
        try {
          const to = target.store;
          for (const r of records) assert.equal(await to.importRecord(r), true, `${r.kind} added`);
          for (const r of records) assert.equal(await to.importRecord(r), false, `${r.kind} again: nothing new`);
          assert.equal(await to.getMembershipUrl('app1'), 'https://im.example/ferry');
          const listed = await to.listMembers('app1', '610');
          assert.equal(listed?.version, 5);
          assert.equal(listed?.historyVisible, false);
          assert.deepEqual(listed?.members, [m('1', 'owner', T0), m('2', 'member', T0 + 7), m('3', 'member', T0 + 9)]);
          assert.deepEqual(await to.getMembership('app1', '612', '1'), { dismissed: true, group: null, member: null, answer: null }, 'a dismissed group stays dismissed');
          assert.equal((await to.getMembership('app1', '611', '8')).answer, null);
          // The clock moved: an event older than the one applied stays ignored after the move.
          assert.deepEqual(await to.applyMembershipChanges('app1', [{ type: 'member.left', groupId: '610', userId: '3', at: T0 + 8 }], T0 + 30), ['unchanged']);
          assert.deepEqual(await to.applyMembershipChanges('app1', [{ type: 'message.recalled', urls: ['u1'], at: T0 + 3 }], T0 + 30), ['unchanged'], 'the recorded event moved');
          assert.deepEqual((await to.listRecordedEvents('app1', 10)).map((e) => [e.type, e.at, e.receivedAt]), [
            ['message.recalled', T0 + 3, T0 + 20],
            ['group.dismissed', T0 + 10, T0 + 20],
          ]);
          // A group the target changed since keeps its own state.
          await to.replaceMembers('app1', '611', [m('1', 'owner')], { version: 9, now: T0 });
          assert.equal(await to.importRecord({ kind: 'group-state', appId: 'app1', groupId: '611', version: 2, historyVisible: false, dismissedAt: null }), false);
          assert.equal((await to.listMembers('app1', '611'))?.version, 9);
        } finally {
          await target.dispose();
        }
      });

      it('exportRecords carries the lifecycle tables (settings, quarantine, usage, shared files, audit log) last, paged; importRecord adds each once', async (meta) => {
        await meta.putAppSettings('app1', JSON.stringify({ retention_days: { chat: 30 }, quota: { app_bytes: 1000 } }));
        await meta.quarantine('app1', 'ab'.repeat(32), 'review', T0);
        await meta.addUsage('app1', '7', 'chat', 300, 2, '2026-11-28');
        await meta.addUsage('app1', '*', 'chat', 300, 2, null);
        await meta.addUsageDay('app1', { day: '2026-11-28', kind: 'chat', bytesAdded: 300, filesAdded: 2, bytesRemoved: 0, filesRemoved: 0 });
        const shared = { fileId: 2 ** 52 + 5, appId: 'app1', groupId: '77', refId: 'r-shared', url: 'http://x/file/download/chat?file_sign=a.b.c', name: 'plan.txt', size: 12, type: 200, uploader: '7', createdAt: T0, updatedAt: T0 + 1 };
        await meta.createSharedFile(shared);
        // More entries than one export page (500), so the keyset paging is crossed.
        const audit = Array.from({ length: 1203 }, (_, i) => ({ id: `a${String(i).padStart(5, '0')}`, appId: 'app1', at: T0 + i, actor: 'admin-key', action: 'file.delete', target: `u${i}`, detail: i % 2 ? null : JSON.stringify({ i }) }));
        for (const e of audit) await meta.appendAudit(e);

        const records: MetaRecord[] = [];
        for await (const r of meta.exportRecords()) records.push(r);
        const rows = records.filter((r) => r.kind === 'lifecycle-row');
        const perTable: Record<string, number> = {};
        for (const r of rows) if (r.kind === 'lifecycle-row') perTable[r.table] = (perTable[r.table] ?? 0) + 1;
        assert.deepEqual(perTable, { app_settings: 1, quarantine: 1, usage: 2, usage_daily: 1, usage_history: 1, shared_files: 1, audit_log: 1203 });
        assert.equal(records.findIndex((r) => r.kind === 'lifecycle-row'), records.length - rows.length, 'after every other record');

        const target = await fresh();
        try {
          const to = target.store;
          for (const r of rows) assert.equal(await to.importRecord(r), true, `${r.kind} added`);
          for (const r of rows.slice(0, 10)) assert.equal(await to.importRecord(r), false, 'again: nothing new');
          assert.deepEqual(JSON.parse((await to.getAppSettings('app1'))!), { retention_days: { chat: 30 }, quota: { app_bytes: 1000 } });
          assert.equal((await to.getQuarantine('app1', 'ab'.repeat(32)))?.reason, 'review');
          assert.deepEqual(await to.getUsage('app1', '*'), await meta.getUsage('app1', '*'));
          assert.deepEqual(await to.getUsage('app1', '7'), await meta.getUsage('app1', '7'));
          assert.equal(await to.getDailyBytes('app1', '7', '2026-11-28'), 300);
          assert.deepEqual(await to.listUsageDays('app1', '2026-11-01'), await meta.listUsageDays('app1', '2026-11-01'));
          assert.deepEqual(await to.getSharedFile('app1', shared.fileId), shared);
          assert.deepEqual(await to.listAudit('app1', null, 2000), await meta.listAudit('app1', null, 2000));
          assert.equal((await to.listAudit('app1', null, 2000)).length, 1203);
        } finally {
          await target.dispose();
        }
      });

      it('exportRecords pages a three-column key: 1,203 members of two groups come out once each, in key order', async (meta) => {
        const ids = (n: number, from: number) => Array.from({ length: n }, (_, i) => String(from + i));
        await meta.replaceMembers('app1', '900', [m('1', 'owner'), ...ids(700, 1000).map((u) => m(u))], { now: T0 });
        await meta.replaceMembers('app1', '901', [m('1', 'owner'), ...ids(501, 5000).map((u) => m(u))], { now: T0 });
        const members: string[] = [];
        for await (const r of meta.exportRecords()) if (r.kind === 'member') members.push(`${r.groupId}/${r.userId}`);
        assert.equal(members.length, 1203);
        assert.equal(new Set(members).size, 1203, 'none twice');
        assert.deepEqual(members, [...members].sort(), 'in (app, group, user) order');
      });

      it('membership_url per app: null until set, back to null when cleared', async (meta) => {
        assert.equal(await meta.getMembershipUrl('app1'), null);
        await meta.setMembershipUrl('app1', 'https://im.example/ferry');
        assert.equal(await meta.getMembershipUrl('app1'), 'https://im.example/ferry');
        assert.equal(await meta.getMembershipUrl('app2'), null);
        await meta.setMembershipUrl('app1', null);
        assert.equal(await meta.getMembershipUrl('app1'), null);
      });
    });

    describe('files', () => {
      it('createFile then getFile gives the record back exactly, int64 ids included; an unknown id is null', async (meta) => {
        const chat = fileRecord({ ownerId: ABOVE_2_53, toId: INT64_MAX, toType: 2, fileType: 200 });
        const avatar = fileRecord({ kind: 'avatar-user', fileType: 0, toId: null, toType: null });
        await meta.createFile(chat);
        await meta.createFile(avatar);
        assert.deepEqual(await meta.getFile('app1', chat.id), chat);
        assert.deepEqual(await meta.getFile('app1', avatar.id), avatar);
        assert.equal(await meta.getFile('app1', 'no-such-file'), null);
      });

      it('getFile is scoped by app, before and after the file is ready', async (meta) => {
        const f = await uploading(meta);
        assert.equal(await meta.getFile('app2', f.id), null);
        await meta.completeUpload(f.id, done, T0 + 1000);
        assert.equal((await meta.getFile('app1', f.id))?.status, 'ready');
        assert.equal(await meta.getFile('app2', f.id), null, 'a ready record read once is still not visible to another app');
      });

      it('createFile refuses an id or a slot id that exists, and the others created beside it still land', async (meta) => {
        const first = fileRecord();
        await meta.createFile(first);
        const a = fileRecord();
        const sameId = fileRecord({ id: first.id });
        const sameSlot = fileRecord({ slotId: first.slotId });
        const b = fileRecord();
        // in one turn of the event loop, as a burst of slot requests arrives
        const results = await Promise.allSettled([a, sameId, sameSlot, b].map((f) => meta.createFile(f)));
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
        );
        assert.deepEqual(await meta.getFile('app1', a.id), a);
        assert.deepEqual(await meta.getFile('app1', b.id), b);
        assert.deepEqual(await meta.getFile('app1', first.id), first, 'the existing record is unchanged');
      });

      it('claimSlot: a pending, unexpired slot becomes uploading', async (meta) => {
        const f = fileRecord();
        await meta.createFile(f);
        const claim = await meta.claimSlot(f.slotId, T0, T0 - MINUTE);
        assert.ok(claim.ok);
        assert.deepEqual(claim.file, { ...f, status: 'uploading' });
        assert.equal((await meta.getFile('app1', f.id))?.status, 'uploading');
      });

      it('claimSlot: an unknown slot is not-found', async (meta) => {
        assert.deepEqual(await meta.claimSlot('no-such-slot', T0, T0 - MINUTE), { ok: false, reason: 'not-found' });
        assert.deepEqual(await meta.claimSlot('no-such-slot', T0, T0 - MINUTE, { ignoreExpiry: true }), { ok: false, reason: 'not-found' });
      });

      it('claimSlot: a slot at or past its expiry is expired and stays pending', async (meta) => {
        const f = fileRecord({ slotExpiresAt: T0 + MINUTE });
        await meta.createFile(f);
        assert.deepEqual(await meta.claimSlot(f.slotId, T0 + MINUTE, T0), { ok: false, reason: 'expired' });
        assert.deepEqual(await meta.claimSlot(f.slotId, T0 + 2 * MINUTE, T0), { ok: false, reason: 'expired' });
        assert.equal((await meta.getFile('app1', f.id))?.status, 'pending');
        assert.ok((await meta.claimSlot(f.slotId, T0 + MINUTE - 1, T0)).ok, 'one millisecond before expiry it is usable');
      });

      it('claimSlot with ignoreExpiry claims an expired pending slot (a direct upload that arrived in time)', async (meta) => {
        const f = fileRecord({ slotExpiresAt: T0 });
        await meta.createFile(f);
        const claim = await meta.claimSlot(f.slotId, T0 + MINUTE, T0, { ignoreExpiry: true });
        assert.ok(claim.ok);
        assert.equal(claim.file.status, 'uploading');
      });

      it('claimSlot: a slot whose file is ready is used, with or without ignoreExpiry, and stays ready', async (meta) => {
        const f = await ready(meta);
        assert.deepEqual(await meta.claimSlot(f.slotId, T0 + 2000, T0 + 2000), { ok: false, reason: 'used' });
        assert.deepEqual(await meta.claimSlot(f.slotId, T0 + 2000, T0 + 2000, { ignoreExpiry: true }), { ok: false, reason: 'used' });
        assert.deepEqual(await meta.claimSlot(f.slotId, T0 + 120 * MINUTE, T0 + 120 * MINUTE), { ok: false, reason: 'used' });
        assert.deepEqual(await meta.getFile('app1', f.id), f);
      });

      it('claimSlot: an upload with a fresh claim makes the slot busy; a stale claim (its node died) is taken over', async (meta) => {
        const f = await uploading(meta, T0);
        assert.deepEqual(await meta.claimSlot(f.slotId, T0 + 1000, T0 - MINUTE), { ok: false, reason: 'busy' });
        assert.deepEqual(await meta.claimSlot(f.slotId, T0 + 1000, T0), { ok: false, reason: 'busy' }, 'claimed exactly at staleBefore is not stale');
        const again = await meta.claimSlot(f.slotId, T0 + 2 * MINUTE, T0 + 1);
        assert.ok(again.ok, 'a claim older than staleBefore is stale');
        assert.equal(again.file.status, 'uploading');
        // the takeover is a fresh claim of its own
        assert.deepEqual(await meta.claimSlot(f.slotId, T0 + 2 * MINUTE + 1, T0 + MINUTE), { ok: false, reason: 'busy' });
      });

      it('claimSlot with ignoreExpiry on an expired slot whose upload runs: busy, not claimed twice', async (meta) => {
        const f = await uploading(meta, T0, { slotExpiresAt: T0 + MINUTE });
        assert.deepEqual(await meta.claimSlot(f.slotId, T0 + 2 * MINUTE, T0 - MINUTE, { ignoreExpiry: true }), { ok: false, reason: 'busy' });
        assert.deepEqual(await meta.claimSlot(f.slotId, T0 + 2 * MINUTE, T0 - MINUTE), { ok: false, reason: 'expired' });
      });

      it('claimSlot: of concurrent claims on one slot exactly one wins; the others are busy', async (meta) => {
        const f = fileRecord();
        await meta.createFile(f);
        const claims = await Promise.all(Array.from({ length: 8 }, () => meta.claimSlot(f.slotId, T0, T0 - MINUTE)));
        assert.equal(claims.filter((c) => c.ok).length, 1, JSON.stringify(claims));
        for (const c of claims) if (!c.ok) assert.equal(c.reason, 'busy');
      });

      // ---- slot capabilities: the claim writes the record ----
      it('claimCapability: the first claim inserts the record uploading, without a reference; completeUpload writes the reference', async (meta) => {
        const f = fileRecord({ status: 'uploading' });
        const claim = await meta.claimCapability(f, T0, T0 - MINUTE);
        assert.ok(claim.ok);
        assert.equal(claim.file.status, 'uploading');
        assert.equal((await meta.getFile('app1', f.id))?.status, 'uploading');
        assert.equal(await meta.getRef('app1', f.id), null, 'no reference before the upload completes');
        const done1 = await meta.completeUpload(f.id, done, T0 + 1000);
        assert.equal(done1.status, 'ready');
        const ref = await meta.getRef('app1', f.id);
        assert.equal(ref?.state, 'live');
        assert.equal(ref?.fileId, f.id);
        assert.equal(ref?.fromId, f.ownerId);
        assert.equal(ref?.toId, f.toId);
        assert.deepEqual(await meta.claimCapability(f, T0 + 2000, T0 + 2000), { ok: false, reason: 'used' }, 'a finished file is used');
      });

      it('getRef: many reads at once (one query on PostgreSQL) each get their own reference, never another app\'s', async (meta) => {
        const files = Array.from({ length: 5 }, () => fileRecord({ status: 'uploading' }));
        for (const f of files) {
          assert.ok((await meta.claimCapability(f, T0, T0 - MINUTE)).ok);
          await meta.completeUpload(f.id, done, T0 + 1000);
        }
        await meta.deleteRef('app1', files[2]!.id, T0 + 2000);
        const asks: Array<[string, string]> = [
          ...files.map((f) => ['app1', f.id] as [string, string]),
          ['app2', files[0]!.id],
          ['app1', 'f-no-such-reference'],
          ['app1', files[1]!.id],
        ];
        const got = await Promise.all(asks.map(([app, id]) => meta.getRef(app, id)));
        assert.deepEqual(
          got.map((r) => r && { id: r.id, appId: r.appId, state: r.state }),
          [
            ...files.map((f, i) => ({ id: f.id, appId: 'app1', state: i === 2 ? 'deleted' : 'live' })),
            null,
            null,
            { id: files[1]!.id, appId: 'app1', state: 'live' },
          ],
        );
        // more than one batch holds at once
        const many = await Promise.all(Array.from({ length: 150 }, (_, i) => meta.getRef('app1', files[i % 5]!.id)));
        assert.deepEqual(many.map((r) => r?.id), Array.from({ length: 150 }, (_, i) => files[i % 5]!.id));
      });

      it('tombstoneRef writes an upload\'s own reference already deleted; completeUpload then answers purging, and a written reference is never replaced', async (meta) => {
        const f = fileRecord({ status: 'uploading' });
        const ref = { id: f.id, appId: 'app1', fileId: f.id, fromId: f.ownerId, toId: f.toId, toType: f.toType, fileType: f.fileType, state: 'deleted' as const, createdAt: T0, deletedAt: T0 };
        assert.equal(await meta.tombstoneRef(ref), true);
        assert.equal((await meta.getRef('app1', f.id))?.state, 'deleted');
        assert.equal(await meta.getFileState('app1', f.id), 'deleted');
        assert.equal(await meta.tombstoneRef(ref), false, 'written once');
        assert.ok((await meta.claimCapability(f, T0, T0 - MINUTE)).ok);
        const completed = await meta.completeUpload(f.id, done, T0 + 1000);
        assert.equal(completed.status, 'purging', 'its URL went before its bytes came: they are to go');
        assert.equal(completed.size, done.size);
        assert.equal((await meta.getRef('app1', f.id))?.state, 'deleted', 'the deleted reference stays deleted');
        assert.deepEqual((await meta.listPurging(10)).map((p) => p.id), [f.id], 'the janitor finishes the purge if the caller does not');

        const live = fileRecord({ status: 'uploading' });
        assert.ok((await meta.claimCapability(live, T0, T0 - MINUTE)).ok);
        await meta.completeUpload(live.id, done, T0 + 1000);
        assert.equal(await meta.tombstoneRef({ ...ref, id: live.id, fileId: live.id }), false, 'a reference written by the upload is not replaced');
        assert.equal((await meta.getRef('app1', live.id))?.state, 'live');
      });

      it('tombstoneUploadsOf stops exactly the unfinished uploads of one user of one app', async (meta) => {
        const mine = fileRecord({ status: 'uploading', ownerId: '55' });
        assert.ok((await meta.claimCapability(mine, T0, T0 - MINUTE)).ok);
        const pending = fileRecord({ ownerId: '55' });
        await meta.createFile(pending); // a row slot: pending, its reference written with it
        const finished = fileRecord({ status: 'uploading', ownerId: '55' });
        assert.ok((await meta.claimCapability(finished, T0, T0 - MINUTE)).ok);
        await meta.completeUpload(finished.id, done, T0 + 1);
        const someoneElse = fileRecord({ status: 'uploading', ownerId: '56' });
        assert.ok((await meta.claimCapability(someoneElse, T0, T0 - MINUTE)).ok);
        assert.equal(await meta.tombstoneUploadsOf('app1', '55', T0 + 5), 1, 'the uploading one (the pending one has its reference already)');
        assert.deepEqual(await meta.getRef('app1', mine.id), { id: mine.id, appId: 'app1', fileId: mine.id, fromId: '55', toId: mine.toId, toType: mine.toType, fileType: mine.fileType, state: 'deleted', createdAt: T0 + 5, deletedAt: T0 + 5 });
        assert.equal((await meta.completeUpload(mine.id, done, T0 + 6)).status, 'purging');
        assert.equal((await meta.getRef('app1', finished.id))?.state, 'live', 'a finished upload is left to the erasure proper');
        assert.equal(await meta.getRef('app1', someoneElse.id), null, "another user's upload goes on");
        assert.equal(await meta.tombstoneUploadsOf('app2', '56', T0 + 5), 0, 'per app');
      });

      it('claimCapability: of concurrent claims exactly one wins; the others are busy', async (meta) => {
        const f = fileRecord({ status: 'uploading' });
        const claims = await Promise.all(Array.from({ length: 8 }, () => meta.claimCapability(f, T0, T0 - MINUTE)));
        assert.equal(claims.filter((c) => c.ok).length, 1, JSON.stringify(claims));
        for (const c of claims) if (!c.ok) assert.equal(c.reason, 'busy');
      });

      it('claimCapability: a stale claim is taken over, a given-back one claimed again; dropClaim removes only an uploading record', async (meta) => {
        const f = fileRecord({ status: 'uploading' });
        assert.ok((await meta.claimCapability(f, T0, T0 - MINUTE)).ok);
        assert.deepEqual(await meta.claimCapability(f, T0 + 1000, T0), { ok: false, reason: 'busy' }, 'claimed exactly at staleBefore is not stale');
        assert.ok((await meta.claimCapability(f, T0 + 2 * MINUTE, T0 + 1)).ok, 'a claim older than staleBefore is stale');
        assert.equal(await meta.releaseClaims(T0 + 3 * MINUTE), 1);
        assert.equal((await meta.getFile('app1', f.id))?.status, 'pending');
        assert.ok((await meta.claimCapability(f, T0 + 4 * MINUTE, T0)).ok, 'a given-back claim is claimed again');
        await meta.dropClaim(f.id);
        assert.equal(await meta.getFile('app1', f.id), null, 'a dropped claim leaves no record');
        assert.ok((await meta.claimCapability(f, T0 + 5 * MINUTE, T0)).ok, 'and the capability can be used again');
        await meta.completeUpload(f.id, done, T0 + 6 * MINUTE);
        await meta.dropClaim(f.id);
        assert.equal((await meta.getFile('app1', f.id))?.status, 'ready', 'a ready file is never dropped');
      });

      it('completeUpload of a slot record that has its reference already keeps that one', async (meta) => {
        const f = await uploading(meta, T0);
        const ref = await meta.getRef('app1', f.id);
        assert.ok(ref);
        await meta.completeUpload(f.id, done, T0 + 1000);
        assert.deepEqual(await meta.getRef('app1', f.id), ref);
      });

      it('touchClaim keeps a running upload from being taken over; it does not claim a pending slot', async (meta) => {
        const f = await uploading(meta, T0);
        await meta.touchClaim(f.id, T0 + 5 * MINUTE);
        assert.deepEqual(await meta.claimSlot(f.slotId, T0 + 6 * MINUTE, T0 + MINUTE), { ok: false, reason: 'busy' });
        assert.ok((await meta.claimSlot(f.slotId, T0 + 7 * MINUTE, T0 + 5 * MINUTE + 1)).ok);

        const p = fileRecord();
        await meta.createFile(p);
        await meta.touchClaim(p.id, T0);
        assert.equal((await meta.getFile('app1', p.id))?.status, 'pending');
        await meta.touchClaim('no-such-file', T0);
      });

      it('releaseSlot gives an uploading slot back (pending, claimable again); a ready file is unaffected', async (meta) => {
        const f = await uploading(meta, T0);
        await meta.releaseSlot(f.id);
        assert.equal((await meta.getFile('app1', f.id))?.status, 'pending');
        assert.ok((await meta.claimSlot(f.slotId, T0 + 1000, T0 - MINUTE)).ok);

        const r = await ready(meta);
        await meta.releaseSlot(r.id);
        assert.deepEqual(await meta.getFile('app1', r.id), r);
        await meta.releaseSlot('no-such-file');
      });

      it('completeUpload makes an uploading file ready with what the upload found', async (meta) => {
        const f = await uploading(meta, T0, { ownerId: INT64_MAX });
        const out = await meta.completeUpload(f.id, done, T0 + 1000);
        const expected: FileRecord = { ...f, ...done, status: 'ready', completedAt: T0 + 1000 };
        assert.deepEqual(out, expected);
        assert.deepEqual(await meta.getFile('app1', f.id), expected);

        const voice = await uploading(meta);
        const v = await meta.completeUpload(voice.id, { size: 1, sha256: 'cd'.repeat(32), contentType: 'audio/amr', fileName: null, durationMs: 3_600_000 }, T0);
        assert.equal(v.durationMs, 3_600_000);
        assert.equal(v.width, null);
        assert.equal(v.height, null);
        assert.equal(v.fileName, null);
      });

      it('completeUpload only completes an uploading file: pending or already ready is refused and unchanged', async (meta) => {
        const p = fileRecord();
        await meta.createFile(p);
        await assert.rejects(meta.completeUpload(p.id, done, T0));
        assert.deepEqual(await meta.getFile('app1', p.id), p);

        const r = await ready(meta);
        await assert.rejects(meta.completeUpload(r.id, { ...done, size: 1, sha256: 'ee'.repeat(32) }, T0 + 5000));
        assert.deepEqual(await meta.getFile('app1', r.id), r);

        await assert.rejects(meta.completeUpload('no-such-file', done, T0));
      });

      it('listExpiredSlots: expired pending slots and expired uploads with a stale claim; never ready files or live uploads', async (meta) => {
        const expiredPending = fileRecord({ slotExpiresAt: T0 + MINUTE });
        await meta.createFile(expiredPending);
        const livePending = fileRecord({ slotExpiresAt: T0 + 60 * MINUTE });
        await meta.createFile(livePending);
        const deadUpload = await uploading(meta, T0, { slotExpiresAt: T0 + MINUTE });
        const runningUpload = await uploading(meta, T0, { slotExpiresAt: T0 + MINUTE });
        await meta.touchClaim(runningUpload.id, T0 + 9 * MINUTE);
        const readyExpired = await ready(meta, { slotExpiresAt: T0 + MINUTE });

        const now = T0 + 10 * MINUTE;
        const staleBefore = T0 + 5 * MINUTE;
        const listed = await meta.listExpiredSlots(now, staleBefore, 100);
        assert.deepEqual(listed.map((f) => f.id).sort(), [expiredPending.id, deadUpload.id].sort());
        assert.deepEqual(
          listed.find((f) => f.id === expiredPending.id),
          expiredPending,
          'whole records, so the janitor knows the storage key',
        );
        for (const id of [livePending.id, runningUpload.id, readyExpired.id]) assert.ok(!listed.some((f) => f.id === id));

        assert.equal((await meta.listExpiredSlots(now, staleBefore, 1)).length, 1, 'limit is honoured');
        assert.deepEqual(await meta.listExpiredSlots(T0, T0 - MINUTE, 100), [], 'nothing has expired yet');
      });

      it('deleteFile forgets pending and uploading records but never a ready one', async (meta) => {
        const p = fileRecord();
        await meta.createFile(p);
        const u = await uploading(meta);
        const r = await ready(meta);
        assert.deepEqual(await meta.getFile('app1', r.id), r);
        for (const f of [p, u, r]) await meta.deleteFile(f.id);
        assert.equal(await meta.getFile('app1', p.id), null);
        assert.equal(await meta.getFile('app1', u.id), null);
        assert.deepEqual(await meta.claimSlot(p.slotId, T0, T0 - MINUTE), { ok: false, reason: 'not-found' });
        assert.deepEqual(await meta.getFile('app1', r.id), r);
        assert.deepEqual(await meta.claimSlot(r.slotId, T0, T0), { ok: false, reason: 'used' });
        await meta.deleteFile('no-such-file');
      });

      it('a pending record read before it completes is seen ready afterwards (no stale copy)', async (meta) => {
        const f = fileRecord();
        await meta.createFile(f);
        assert.equal((await meta.getFile('app1', f.id))?.status, 'pending');
        assert.ok((await meta.claimSlot(f.slotId, T0, T0 - MINUTE)).ok);
        assert.equal((await meta.getFile('app1', f.id))?.status, 'uploading');
        await meta.completeUpload(f.id, done, T0 + 1000);
        assert.equal((await meta.getFile('app1', f.id))?.status, 'ready');
      });
    });

    describe('derivatives', () => {
      const derivative = (fileId: string, variant: string, key: string) => ({
        fileId,
        variant,
        storageKey: key,
        size: 4321,
        sha256: 'ef'.repeat(32),
        contentType: 'image/jpeg',
        createdAt: T0,
      });

      it('putDerivative records one and returns it; getDerivative finds it by file and variant', async (meta) => {
        const d = derivative('f1', 'thumb-400x400', 'derived/a/1');
        assert.equal(await meta.getDerivative('f1', 'thumb-400x400'), null);
        assert.deepEqual(await meta.putDerivative(d), d);
        assert.deepEqual(await meta.getDerivative('f1', 'thumb-400x400'), d);
        assert.equal(await meta.getDerivative('f1', 'cover-800x800'), null);
        assert.equal(await meta.getDerivative('f2', 'thumb-400x400'), null);
      });

      it('putDerivative twice for one variant: the first stays and both callers get it back', async (meta) => {
        const first = derivative('f1', 'mp3', 'derived/a/first');
        const second = { ...derivative('f1', 'mp3', 'derived/a/second'), size: 99, createdAt: T0 + 5 };
        assert.deepEqual(await meta.putDerivative(first), first);
        assert.deepEqual(await meta.putDerivative(second), first);
        assert.deepEqual(await meta.getDerivative('f1', 'mp3'), first);
      });

      it('concurrent putDerivative calls for one variant all return the same winner', async (meta) => {
        const ds = Array.from({ length: 6 }, (_, i) => derivative('f1', 'thumb-200x200', `derived/a/${i}`));
        const got = await Promise.all(ds.map((d) => meta.putDerivative(d)));
        const winner = await meta.getDerivative('f1', 'thumb-200x200');
        assert.ok(winner && ds.some((d) => d.storageKey === winner.storageKey));
        for (const g of got) assert.deepEqual(g, winner);
      });
    });

    describe('usage history', () => {
      const day = (d: string, kind: UsageKind, added: [number, number], removed: [number, number] = [0, 0]): UsageDay => ({
        day: d,
        kind,
        bytesAdded: added[0],
        filesAdded: added[1],
        bytesRemoved: removed[0],
        filesRemoved: removed[1],
      });

      it('addUsageDay adds up per app, day and kind; listUsageDays lists from a day on, by day then kind', async (meta) => {
        const big = 5 * 1024 * 1024 * 1024; // above 2^32: the columns must be 64-bit
        await meta.addUsageDay('app1', day('2030-01-01', 'video', [big, 1]));
        await meta.addUsageDay('app1', day('2030-01-02', 'voice', [7, 1]));
        await meta.addUsageDay('app1', day('2030-01-02', 'image', [10, 1]));
        await meta.addUsageDay('app1', day('2030-01-02', 'image', [5, 1]));
        await meta.addUsageDay('app1', day('2030-01-02', 'image', [0, 0], [10, 1]));
        await meta.addUsageDay('app1', day('2030-01-03', 'video', [0, 0], [big, 1]));
        await meta.addUsageDay('app2', day('2030-01-02', 'image', [99, 1]));
        assert.deepEqual(await meta.listUsageDays('app1', '2030-01-01'), [
          day('2030-01-01', 'video', [big, 1]),
          day('2030-01-02', 'image', [15, 2], [10, 1]),
          day('2030-01-02', 'voice', [7, 1]),
          day('2030-01-03', 'video', [0, 0], [big, 1]),
        ]);
        assert.deepEqual(
          (await meta.listUsageDays('app1', '2030-01-02')).map((d) => `${d.day} ${d.kind}`),
          ['2030-01-02 image', '2030-01-02 voice', '2030-01-03 video'],
          'fromDay is inclusive',
        );
        assert.deepEqual(await meta.listUsageDays('app1', '2030-01-04'), []);
        assert.deepEqual(await meta.listUsageDays('app3', '2000-01-01'), []);
      });

      it('concurrent addUsageDay calls for one day and kind all count', async (meta) => {
        await Promise.all(Array.from({ length: 8 }, () => meta.addUsageDay('app1', day('2030-01-01', 'chat', [3, 1], [1, 1]))));
        assert.deepEqual(await meta.listUsageDays('app1', '2030-01-01'), [day('2030-01-01', 'chat', [24, 8], [8, 8])]);
      });

      it('a day whose counters are all zero is left out', async (meta) => {
        await meta.addUsageDay('app1', day('2030-01-01', 'chat', [0, 0]));
        assert.deepEqual(await meta.listUsageDays('app1', '2030-01-01'), []);
      });
    });

    describe('lifecycle', () => {
      const fwd = (f: FileRecord, id: string, over: Partial<FileRef> = {}): FileRef => ({
        id,
        appId: f.appId,
        fileId: f.id,
        fromId: '1002',
        toId: '1003',
        toType: 1,
        fileType: f.fileType,
        state: 'live',
        createdAt: T0 + 5,
        deletedAt: null,
        ...over,
      });

      it('createFile records the original reference; createRef adds forwards; getRef is per app', async (meta) => {
        const f = await ready(meta);
        const original = await meta.getRef('app1', f.id);
        assert.deepEqual(original, { id: f.id, appId: 'app1', fileId: f.id, fromId: '1001', toId: '1002', toType: 1, fileType: 100, state: 'live', createdAt: T0, deletedAt: null });
        await meta.createRef(fwd(f, 'r1', { toId: INT64_MAX }));
        assert.equal((await meta.getRef('app1', 'r1'))?.toId, INT64_MAX);
        assert.equal(await meta.getRef('app2', 'r1'), null, 'another app sees nothing');
        assert.deepEqual((await meta.listRefsOfFile(f.id)).map((r) => r.id), [f.id, 'r1']);
        assert.equal(await meta.getFileState('app1', f.id), 'live');
      });

      it('deleteRef: the file turns purging only with its last reference; deleting twice says already', async (meta) => {
        const f = await ready(meta);
        await meta.createRef(fwd(f, 'r1'));
        const first = await meta.deleteRef('app1', f.id, T0 + 10);
        assert.equal(first?.already, false);
        assert.equal(first?.purge, null, 'a forward is left');
        assert.equal((await meta.getRef('app1', f.id))?.state, 'deleted');
        assert.equal((await meta.getRef('app1', f.id))?.deletedAt, T0 + 10);
        assert.equal((await meta.deleteRef('app1', f.id, T0 + 11))?.already, true);
        assert.equal(await meta.deleteRef('app1', 'nope', T0), null);
        assert.equal(await meta.deleteRef('app2', 'r1', T0), null, 'not across apps');
        const last = await meta.deleteRef('app1', 'r1', T0 + 12);
        assert.equal(last?.purge?.id, f.id);
        assert.equal(last?.purge?.status, 'purging');
        assert.equal(await meta.getFileState('app1', f.id), 'deleted');
        assert.deepEqual((await meta.listPurging(10)).map((x) => x.id), [f.id]);
        await meta.putDerivative({ fileId: f.id, variant: 'thumb', storageKey: 'd/1', size: 1, sha256: 'a', contentType: 'image/jpeg', createdAt: T0 });
        assert.equal((await meta.listDerivatives(f.id)).length, 1);
        assert.equal(await meta.finishPurge(f.id), true);
        assert.equal(await meta.finishPurge(f.id), false, 'only one caller finishes a purge (a janitor retry racing a delete)');
        assert.deepEqual(await meta.listDerivatives(f.id), []);
        assert.equal((await meta.getFile('app1', f.id))?.status, 'deleted');
        assert.deepEqual(await meta.listPurging(10), []);
      });

      it('getFileState: many reads at once (one query) each get their own file\'s state, per app', async (meta) => {
        const live = await ready(meta);
        const forwarded = await ready(meta);
        await meta.createRef(fwd(forwarded, 'r-left'));
        await meta.deleteRef('app1', forwarded.id, T0 + 1); // a forward is left: still live
        const gone = await ready(meta);
        await meta.deleteRef('app1', gone.id, T0 + 2);
        const asks: Array<[string, string]> = [
          ['app1', live.id],
          ['app1', forwarded.id],
          ['app1', gone.id],
          ['app2', live.id],
          ['app1', 'f-no-such-file'],
          ['app1', live.id],
        ];
        assert.deepEqual(await Promise.all(asks.map(([app, id]) => meta.getFileState(app, id))), ['live', 'live', 'deleted', 'deleted', 'deleted', 'live']);
        const many = await Promise.all(Array.from({ length: 130 }, (_, i) => meta.getFileState('app1', i % 2 ? live.id : gone.id)));
        assert.deepEqual(many, Array.from({ length: 130 }, (_, i) => (i % 2 ? 'live' : 'deleted')));
      });

      it('listRefsBy pages the references a user sent or a conversation got, deleted ones left out', async (meta) => {
        const a = await ready(meta, { ownerId: '7', toId: '50', toType: 2 });
        const b = await ready(meta, { ownerId: '7' });
        await meta.createRef(fwd(b, 'zz', { fromId: '8', toId: '50', toType: 2 }));
        await meta.deleteRef('app1', b.id, T0);
        assert.deepEqual((await meta.listRefsBy('app1', { fromId: '7' }, '', 10)).map((r) => r.id), [a.id]);
        const toGroup = await meta.listRefsBy('app1', { toType: 2, toId: '50' }, '', 1);
        assert.equal(toGroup.length, 1);
        const rest = await meta.listRefsBy('app1', { toType: 2, toId: '50' }, toGroup[0]!.id, 10);
        assert.deepEqual([...toGroup, ...rest].map((r) => r.id).sort(), [a.id, 'zz'].sort());
      });

      it('quarantine flips every reference of every file with the hash; release restores live ones only', async (meta) => {
        const f = await ready(meta);
        const g = await ready(meta);
        await meta.createRef(fwd(f, 'r1'));
        await meta.deleteRef('app1', 'r1', T0);
        assert.equal(await meta.quarantine('app1', done.sha256, 'spam', T0), true);
        assert.equal(await meta.quarantine('app1', done.sha256, 'again', T0 + 1), false);
        assert.deepEqual(await meta.getQuarantine('app1', done.sha256), { reason: 'spam', createdAt: T0 });
        assert.equal(await meta.getQuarantine('app2', done.sha256), null);
        assert.equal((await meta.getRef('app1', f.id))?.state, 'quarantined');
        assert.equal((await meta.getRef('app1', g.id))?.state, 'quarantined');
        assert.equal((await meta.getRef('app1', 'r1'))?.state, 'deleted', 'a deleted reference stays deleted');
        assert.equal(await meta.getFileState('app1', f.id), 'quarantined');
        assert.equal(await meta.release('app1', done.sha256), true);
        assert.equal(await meta.release('app1', done.sha256), false);
        assert.equal((await meta.getRef('app1', f.id))?.state, 'live');
        assert.equal((await meta.getRef('app1', 'r1'))?.state, 'deleted');
      });

      it('usage adds up per user and for the app, negative amounts take away, daily bytes per day', async (meta) => {
        const big = 5 * 1024 * 1024 * 1024;
        await meta.addUsage('app1', '1', 'image', big, 1, '2030-01-01');
        await meta.addUsage('app1', '1', 'image', 10, 1, '2030-01-01');
        await meta.addUsage('app1', '2', 'voice', 7, 1, '2030-01-02');
        await meta.addUsage('app1', '1', 'image', -10, -1, null);
        const rows = await meta.getUsage('app1');
        assert.deepEqual(
          rows.map((r) => [r.userId, r.kind, r.bytes, r.files]),
          [
            ['*', 'image', big, 1],
            ['*', 'voice', 7, 1],
            ['1', 'image', big, 1],
            ['2', 'voice', 7, 1],
          ],
        );
        assert.deepEqual((await meta.getUsage('app1', '*')).map((r) => r.bytes), [big, 7]);
        assert.equal(await meta.getDailyBytes('app1', '1', '2030-01-01'), big + 10, 'daily bytes count what was uploaded');
        assert.equal(await meta.getDailyBytes('app1', '1', '2030-01-02'), 0);
        assert.deepEqual(await meta.getUsage('app2'), []);
      });

      it('app settings are stored as given, replaced, and listed', async (meta) => {
        assert.equal(await meta.getAppSettings('app1'), null);
        await meta.putAppSettings('app1', '{"a":1}');
        await meta.putAppSettings('app1', '{"a":2}');
        assert.equal(await meta.getAppSettings('app1'), '{"a":2}');
        assert.deepEqual(await meta.listAppSettings(), [{ appId: 'app1', json: '{"a":2}' }]);
      });

      it('shared files: ids near 2^53 exact, one entry per reference, rename, delete, gone with the reference', async (meta) => {
        const f = await ready(meta, { toId: ABOVE_2_53, toType: 2, fileType: 200 });
        const id = 2 ** 53 - 1;
        const rec = { fileId: id, appId: 'app1', groupId: ABOVE_2_53, refId: f.id, url: 'u', name: 'a.txt', size: 5, type: 200, uploader: '1001', createdAt: T0, updatedAt: T0 };
        await meta.createSharedFile(rec);
        await assert.rejects(meta.createSharedFile({ ...rec, fileId: 5 }), AlreadyExistsError);
        assert.deepEqual(await meta.getSharedFile('app1', id), rec);
        assert.equal(await meta.getSharedFile('app2', id), null);
        assert.deepEqual(await meta.listSharedFiles('app1', ABOVE_2_53), [rec]);
        assert.deepEqual(await meta.listSharedFiles('app1', ROUNDED_2_53), []);
        assert.equal(await meta.renameSharedFile('app1', id, 'b.txt', T0 + 1), true);
        assert.equal((await meta.getSharedFile('app1', id))?.name, 'b.txt');
        assert.equal(await meta.renameSharedFile('app1', 1, 'x', T0), false);
        await meta.deleteRef('app1', f.id, T0 + 2);
        assert.equal(await meta.getSharedFile('app1', id), null, 'deleting the URL removes its entry');
        assert.equal(await meta.deleteSharedFile('app1', id), false);
      });

      it('the audit log lists newest first, pages by id, per app', async (meta) => {
        for (const n of [1, 2, 3]) await meta.appendAudit({ id: `00${n}`, appId: 'app1', at: T0 + n, actor: 'janitor', action: 'x', target: String(n), detail: null });
        await meta.appendAudit({ id: '009', appId: 'app2', at: T0, actor: 'event', action: 'y', target: '', detail: '{}' });
        assert.deepEqual((await meta.listAudit('app1', null, 2)).map((e) => e.id), ['003', '002']);
        assert.deepEqual((await meta.listAudit('app1', '002', 10)).map((e) => e.id), ['001']);
        assert.equal((await meta.listAudit('app2', null, 10))[0]?.detail, '{}');
      });

      it('retention lists ready files by kind and age; superseded avatars are those behind the latest two', async (meta) => {
        const old = await ready(meta, { fileType: 102 });
        await ready(meta, { fileType: 100 });
        assert.deepEqual((await meta.listFilesCompletedBefore('app1', { fileTypes: [102] }, T0 + 2000, 10)).map((f) => f.id), [old.id]);
        assert.deepEqual(await meta.listFilesCompletedBefore('app1', { fileTypes: [102] }, T0 + 1000, 10), [], 'not older than the line');
        const avatars: FileRecord[] = [];
        for (let i = 0; i < 4; i++) {
          const a = await uploading(meta, T0, { kind: 'avatar-user', fileType: 0, ownerId: '42', toId: null, toType: null });
          avatars.push(await meta.completeUpload(a.id, done, T0 + i * 1000));
        }
        const gone = await meta.listSupersededAvatars(T0 + 10_000, 10);
        assert.deepEqual(gone.map((f) => f.id).sort(), [avatars[0]!.id, avatars[1]!.id].sort());
        // At T0 + 2500 only avatars 1 and 2 were newer than avatar 0: avatar 1 was not superseded yet.
        assert.deepEqual((await meta.listSupersededAvatars(T0 + 2500, 10)).map((f) => f.id), [avatars[0]!.id], 'superseded as of the line');
        assert.deepEqual((await meta.listFilesCompletedBefore('app1', { avatars: true }, T0 + 1, 10)).map((f) => f.id), [avatars[0]!.id]);
        await meta.quarantine('app1', done.sha256, 'review', T0);
        assert.deepEqual(await meta.listSupersededAvatars(T0 + 10_000, 10), [], 'quarantined bytes are kept for review');
        assert.deepEqual(await meta.listFilesCompletedBefore('app1', { fileTypes: [102] }, T0 + 2000, 10), [], 'quarantined bytes are kept for review');
      });
    });

    describe('operations: health', () => {
      it('ping() answers on a working store, again and again, and writes nothing', async (meta) => {
        for (let i = 0; i < 5; i++) await meta.ping();
        assert.equal(await meta.getApp('app1'), null);
        const records = [];
        for await (const r of meta.exportRecords()) records.push(r);
        assert.deepEqual(records, []);
      });

      it('ping() runs beside other queries without disturbing them', async (meta) => {
        await meta.createApp({ appId: 'app1', secret: 's', signKey: 'k', createdAt: T0 });
        const [, app] = await Promise.all([meta.ping(), meta.getApp('app1'), meta.ping()]);
        assert.equal(app?.secret, 's');
      });
    });

    describe('leases', () => {
      it('a free lease is taken; another holder cannot take it until it expires, then can', async (meta) => {
        assert.equal(await meta.acquireLease('flight:x', 'node-a', T0, 30_000), true);
        assert.equal(await meta.acquireLease('flight:x', 'node-b', T0 + 1, 30_000), false);
        assert.equal(await meta.acquireLease('flight:x', 'node-b', T0 + 29_999, 30_000), false);
        assert.equal(await meta.acquireLease('flight:x', 'node-b', T0 + 30_001, 30_000), true, 'expired: taken over');
        assert.equal(await meta.acquireLease('flight:x', 'node-a', T0 + 30_002, 30_000), false, 'now node-b holds it');
        assert.equal(await meta.acquireLease('flight:y', 'node-a', T0 + 30_002, 30_000), true, 'leases are by name');
      });

      it('only the holder releases a lease; once released anyone takes it', async (meta) => {
        assert.equal(await meta.acquireLease('flight:x', 'node-a', T0, 30_000), true);
        await meta.releaseLease('flight:x', 'node-b');
        assert.equal(await meta.acquireLease('flight:x', 'node-b', T0 + 1, 30_000), false, 'a non-holder cannot release it');
        await meta.releaseLease('flight:x', 'node-a');
        assert.equal(await meta.acquireLease('flight:x', 'node-b', T0 + 2, 30_000), true);
        await meta.releaseLease('flight:never-taken', 'node-a');
      });

      it('of concurrent acquires exactly one holder wins', async (meta) => {
        const got = await Promise.all(Array.from({ length: 8 }, (_, i) => meta.acquireLease('flight:z', `node-${i}`, T0, 30_000)));
        assert.equal(got.filter(Boolean).length, 1, JSON.stringify(got));
      });
    });
  });
}
