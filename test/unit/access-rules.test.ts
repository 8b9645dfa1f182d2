// The design brief's access rules (src/access/rules.ts) on their own, against a small in-memory
// group table: who reads a chat file, who sends where, who sets a group avatar, for user
// tokens, admin tokens, admin tokens acting as a user (a 'user' principal, see credentials)
// and admin tokens acting as a group's admin. The same rules over real stores and HTTP are in
// test/integration/access.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canReadAtOnce, canSendAtOnce, checkCanRead, checkCanSendTo, checkCanSetGroupAvatar, type Conversation, type GroupDirectory } from '../../src/access/rules.ts';
import type { Principal } from '../../src/auth/credentials.ts';
import { Codes, FerryError, type Code } from '../../src/errors.ts';
import type { GroupRecord, MemberRole, MetaStore } from '../../src/meta/meta-store.ts';

/** Groups and members in memory: all the rules read of a MetaStore. */
class FakeGroups {
  private readonly groups = new Map<string, { owner: string; members: Map<string, MemberRole> }>();

  group(appId: string, groupId: string, owner: string, members: Record<string, MemberRole> = {}): this {
    this.groups.set(`${appId}/${groupId}`, { owner, members: new Map([[owner, 'owner'], ...Object.entries(members)]) });
    return this;
  }

  leave(appId: string, groupId: string, userId: string): void {
    this.groups.get(`${appId}/${groupId}`)?.members.delete(userId);
  }

  get meta(): MetaStore {
    const store: Pick<MetaStore, 'getGroup' | 'getMemberRole'> = {
      getGroup: async (appId, groupId): Promise<GroupRecord | null> => {
        const g = this.groups.get(`${appId}/${groupId}`);
        return g ? { appId, groupId, ownerId: g.owner } : null;
      },
      getMemberRole: async (appId, groupId, userId) => this.groups.get(`${appId}/${groupId}`)?.members.get(userId) ?? null,
    };
    // The rules need only these two reads; anything else would be a rule reaching too far.
    return store as MetaStore;
  }
}

const APP = 'app1';
const user = (userId: string, appId = APP): Principal => ({ kind: 'user', appId, userId });
const admin = (appId = APP): Principal => ({ kind: 'admin', appId, userId: '1' });
const groupAdmin = (groupId: string, appId = APP): Principal => ({ kind: 'group-admin', appId, userId: '1', groupId });

const toUser = (fromId: string, toId: string): Conversation => ({ fromId, toId, toType: 1 });
const toGroup = (fromId: string, groupId: string): Conversation => ({ fromId, toId: groupId, toType: 2 });

async function refused(p: Promise<void>, code: Code, what?: string): Promise<void> {
  await assert.rejects(p, (err) => {
    assert.ok(err instanceof FerryError, String(err));
    assert.equal(err.code, code, what ?? err.message);
    return true;
  });
}

/**
 * Group 500: owner 2001, admin 2002, member 2003. Group 600: owner 3001 only.
 * Another app holds a group 500 too, where 9001 is a member.
 */
function world(): FakeGroups {
  return new FakeGroups()
    .group(APP, '500', '2001', { '2002': 'admin', '2003': 'member' })
    .group(APP, '600', '3001')
    .group('app2', '500', '9001');
}

describe('reading a chat file', () => {
  test('a file to a user: its sender and its receiver read it, nobody else', async () => {
    const { meta } = world();
    await checkCanRead(meta, user('1001'), toUser('1001', '1002'));
    await checkCanRead(meta, user('1002'), toUser('1001', '1002'));
    await refused(checkCanRead(meta, user('1003'), toUser('1001', '1002')), Codes.NO_PERMISSION);
  });

  test('a file to a group: every current member reads it, whatever their role; others do not', async () => {
    const { meta } = world();
    for (const member of ['2001', '2002', '2003']) await checkCanRead(meta, user(member), toGroup('2003', '500'));
    await refused(checkCanRead(meta, user('3001'), toGroup('2003', '500')), Codes.NO_PERMISSION);
    await refused(checkCanRead(meta, user('9001'), toGroup('2003', '500')), Codes.NO_PERMISSION);
  });

  test('leaving a group ends access to its files, except to those one sent', async () => {
    const g = world();
    await checkCanRead(g.meta, user('2003'), toGroup('2001', '500'));
    g.leave(APP, '500', '2003');
    await refused(checkCanRead(g.meta, user('2003'), toGroup('2001', '500')), Codes.NO_PERMISSION);
    await checkCanRead(g.meta, user('2003'), toGroup('2003', '500'));
  });

  test('user and group ids are separate spaces: user 500 does not read files sent to group 500', async () => {
    const { meta } = world();
    await refused(checkCanRead(meta, user('500'), toGroup('2001', '500')), Codes.NO_PERMISSION);
    // and a group member does not read a file sent to a user who has the group's id
    await refused(checkCanRead(meta, user('2003'), toUser('2001', '500')), Codes.NO_PERMISSION);
  });

  test('membership is per app: a member of group 500 in another app reads nothing here', async () => {
    const { meta } = world();
    await refused(checkCanRead(meta, user('9001'), toGroup('2001', '500')), Codes.NO_PERMISSION);
    await checkCanRead(meta, user('9001', 'app2'), toGroup('2001', '500'));
  });

  test('an admin token reads every file in its app, to users and to groups', async () => {
    const { meta } = world();
    await checkCanRead(meta, admin(), toUser('1001', '1002'));
    await checkCanRead(meta, admin(), toGroup('2001', '500'));
    await checkCanRead(meta, admin(), toGroup('2001', '404'));
  });

  test("an admin token acting as a group's admin reads that group's files only", async () => {
    const { meta } = world();
    await checkCanRead(meta, groupAdmin('500'), toGroup('2001', '500'));
    await refused(checkCanRead(meta, groupAdmin('500'), toGroup('3001', '600')), Codes.NO_PERMISSION);
    await refused(checkCanRead(meta, groupAdmin('500'), toUser('2001', '2002')), Codes.NO_PERMISSION);
    await refused(checkCanRead(meta, groupAdmin('500'), toUser('2001', '500')), Codes.NO_PERMISSION, 'a user who has the group id');
  });

  test('acting as the admin of a group that does not exist is 20001', async () => {
    const { meta } = world();
    await refused(checkCanRead(meta, groupAdmin('404'), toGroup('2001', '404')), Codes.GROUP_NOT_FOUND);
    await refused(checkCanRead(meta, groupAdmin('500', 'app3'), toGroup('2001', '500')), Codes.GROUP_NOT_FOUND);
  });
});

describe('sending', () => {
  test('any user, and an admin token, may send to any user', async () => {
    const { meta } = world();
    await checkCanSendTo(meta, user('1001'), 1, '1002');
    await checkCanSendTo(meta, user('1001'), 1, '1001');
    await checkCanSendTo(meta, admin(), 1, '1002');
  });

  test("a token acting as a group's admin may not send to a user", async () => {
    const { meta } = world();
    await refused(checkCanSendTo(meta, groupAdmin('500'), 1, '2001'), Codes.NO_PERMISSION);
  });

  test('sending to a group needs the group (20001) and membership of it (20002), any role', async () => {
    const { meta } = world();
    for (const member of ['2001', '2002', '2003']) await checkCanSendTo(meta, user(member), 2, '500');
    await refused(checkCanSendTo(meta, user('3001'), 2, '500'), Codes.NOT_GROUP_MEMBER);
    await refused(checkCanSendTo(meta, user('9001'), 2, '500'), Codes.NOT_GROUP_MEMBER);
    await refused(checkCanSendTo(meta, user('2001'), 2, '404'), Codes.GROUP_NOT_FOUND);
  });

  test('an admin token sends to any group of its app that exists', async () => {
    const { meta } = world();
    await checkCanSendTo(meta, admin(), 2, '500');
    await checkCanSendTo(meta, admin(), 2, '600');
    await refused(checkCanSendTo(meta, admin(), 2, '404'), Codes.GROUP_NOT_FOUND);
  });

  test("a token acting as a group's admin sends to that group only", async () => {
    const { meta } = world();
    await checkCanSendTo(meta, groupAdmin('500'), 2, '500');
    await refused(checkCanSendTo(meta, groupAdmin('500'), 2, '600'), Codes.NO_PERMISSION);
  });

  test('a member who left may no longer send to the group', async () => {
    const g = world();
    g.leave(APP, '500', '2003');
    await refused(checkCanSendTo(g.meta, user('2003'), 2, '500'), Codes.NOT_GROUP_MEMBER);
  });

  test('forwarding = read the source + send to the target: a reader who is no member of the target group is refused', async () => {
    const { meta } = world();
    // 1002 received the file, so may read it, but is not in group 600
    await checkCanRead(meta, user('1002'), toUser('1001', '1002'));
    await refused(checkCanSendTo(meta, user('1002'), 2, '600'), Codes.NOT_GROUP_MEMBER);
    await checkCanSendTo(meta, user('1002'), 1, '1003');
  });
});

describe('group avatars', () => {
  test("the group's owner and its admins may set it; plain members may not (10010), outsiders are no members (20002)", async () => {
    const { meta } = world();
    await checkCanSetGroupAvatar(meta, user('2001'), '500');
    await checkCanSetGroupAvatar(meta, user('2002'), '500');
    await refused(checkCanSetGroupAvatar(meta, user('2003'), '500'), Codes.NO_PERMISSION);
    await refused(checkCanSetGroupAvatar(meta, user('3001'), '500'), Codes.NOT_GROUP_MEMBER);
    await refused(checkCanSetGroupAvatar(meta, user('9001'), '500'), Codes.NOT_GROUP_MEMBER);
  });

  test("an admin token sets any group's avatar; acting as a group's admin, only that group's", async () => {
    const { meta } = world();
    await checkCanSetGroupAvatar(meta, admin(), '500');
    await checkCanSetGroupAvatar(meta, admin(), '600');
    await checkCanSetGroupAvatar(meta, groupAdmin('600'), '600');
    await refused(checkCanSetGroupAvatar(meta, groupAdmin('600'), '500'), Codes.NO_PERMISSION);
  });

  test('a group that does not exist is 20001, for everyone', async () => {
    const { meta } = world();
    for (const who of [user('2001'), admin(), groupAdmin('404')]) await refused(checkCanSetGroupAvatar(meta, who, '404'), Codes.GROUP_NOT_FOUND);
  });
});

describe('answers given at once, without a lookup (the hot paths ask these first)', () => {
  /** A directory that must not be asked: an answer given at once may not need one. */
  const noLookups: GroupDirectory = {
    getGroup: () => Promise.reject(new Error('looked up a group')),
    getMemberRole: () => Promise.reject(new Error('looked up a member')),
  };
  const ids = fc.constantFrom('1001', '1002', '2001', '2003', '500', '600');
  const principals = fc.oneof(
    ids.map((id) => user(id)),
    fc.constant(admin()),
    fc.constantFrom('500', '600').map((g) => groupAdmin(g)),
  );
  const conversations = fc.record({ fromId: ids, toId: ids, toType: fc.constantFrom<1 | 2>(1, 2) });

  test('canReadAtOnce: true only where checkCanRead allows without a lookup, and checkCanRead agrees with the full rules', async () => {
    await fc.assert(
      fc.asyncProperty(principals, conversations, async (who, conv) => {
        const full = await checkCanRead(world().meta, who, conv).then(() => 'allowed', (err: unknown) => (err instanceof FerryError ? err.code : String(err)));
        if (canReadAtOnce(who, conv)) {
          assert.equal(full, 'allowed');
          await checkCanRead(noLookups, who, conv);
        } else {
          // Then no read is allowed without a lookup: the rules look the group up, or refuse.
          const atOnce = await checkCanRead(noLookups, who, conv).then(() => 'allowed', () => 'not at once');
          assert.equal(atOnce, 'not at once');
        }
      }),
    );
  });

  test('canSendAtOnce: true only where checkCanSendTo allows without a lookup', async () => {
    await fc.assert(
      fc.asyncProperty(principals, fc.constantFrom<1 | 2>(1, 2), ids, async (who, toType, toId) => {
        if (!canSendAtOnce(who, toType)) {
          const atOnce = await checkCanSendTo(noLookups, who, toType, toId).then(() => 'allowed', () => 'not at once');
          assert.equal(atOnce, 'not at once');
          return;
        }
        await checkCanSendTo(noLookups, who, toType, toId);
        await checkCanSendTo(world().meta, who, toType, toId);
      }),
    );
  });
});
