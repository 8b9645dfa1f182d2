// Membership changes from signed events, applied inside one transaction (the caller's): all of
// a body's events or none. Each change is compared with the newest event already applied for
// its key, so a replayed or late event changes nothing:
//   member.*         key (group, user), and never older than the group's dismissal
//   group.*          key (group, '')
//   user.deleted     key ('', user)
//   message.recalled key: the event itself (its URLs and `at`), recorded once
import { createHash } from 'node:crypto';
import type { Insertable, Transaction } from 'kysely';
import type { ChangeOutcome, MemberEntry, MemberRole, MembershipChange } from '../meta-store.ts';
import type { Database } from './schema.ts';

/** rows per INSERT: 5 values each stays under SQLite's oldest bound-parameter limit (999) */
export const MEMBER_BATCH = 150;

type Tx = Transaction<Database>;

export function memberRows(appId: string, groupId: string, members: MemberEntry[]): Insertable<Database['group_members']>[] {
  return members.map((m) => ({ app_id: appId, group_id: groupId, user_id: m.userId, role: m.role, joined_at: m.joinedAt }));
}

async function clockOf(tx: Tx, appId: string, groupId: string, userId: string): Promise<number | null> {
  const row = await tx
    .selectFrom('membership_clock')
    .select('at')
    .where('app_id', '=', appId)
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? Number(row.at) : null;
}

/** true when the change is newer than the last one applied for the key (and the key now says so) */
async function advance(tx: Tx, appId: string, groupId: string, userId: string, at: number): Promise<boolean> {
  const last = await clockOf(tx, appId, groupId, userId);
  // Two events for one key with the same `at`: the first one received wins, so replaying a body
  // (or a part of it) is always harmless.
  if (last !== null && at <= last) return false;
  await tx
    .insertInto('membership_clock')
    .values({ app_id: appId, group_id: groupId, user_id: userId, at })
    .onConflict((oc) => oc.columns(['app_id', 'group_id', 'user_id']).doUpdateSet({ at }))
    .execute();
  return true;
}

async function dismissedAt(tx: Tx, appId: string, groupId: string): Promise<number | null> {
  const row = await tx.selectFrom('groups').select('dismissed_at').where('app_id', '=', appId).where('group_id', '=', groupId).executeTakeFirst();
  return row?.dismissed_at === null || row?.dismissed_at === undefined ? null : Number(row.dismissed_at);
}

async function ensureGroup(tx: Tx, appId: string, groupId: string, now: number): Promise<void> {
  await tx
    .insertInto('groups')
    .values({ app_id: appId, group_id: groupId, owner_id: '', created_at: now })
    .onConflict((oc) => oc.columns(['app_id', 'group_id']).doNothing())
    .execute();
}

/** A group has one owner: userId becomes it, and a previous owner stays as a plain member. */
export async function makeOwner(tx: Tx, appId: string, groupId: string, userId: string): Promise<void> {
  await tx.updateTable('groups').set({ owner_id: userId }).where('app_id', '=', appId).where('group_id', '=', groupId).execute();
  await tx
    .updateTable('group_members')
    .set({ role: 'member' })
    .where('app_id', '=', appId)
    .where('group_id', '=', groupId)
    .where('role', '=', 'owner')
    .execute();
}

export async function setMember(tx: Tx, appId: string, groupId: string, userId: string, role: MemberRole, joinedAt: number | null): Promise<void> {
  if (role === 'owner') await makeOwner(tx, appId, groupId, userId);
  await tx
    .insertInto('group_members')
    .values({ app_id: appId, group_id: groupId, user_id: userId, role, joined_at: joinedAt })
    .onConflict((oc) => oc.columns(['app_id', 'group_id', 'user_id']).doUpdateSet({ role }))
    .execute();
}

async function forgetAnswer(tx: Tx, appId: string, groupId: string, userId: string): Promise<void> {
  await tx
    .deleteFrom('membership_answers')
    .where('app_id', '=', appId)
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .execute();
}

/** true when it was not recorded before */
async function record(tx: Tx, appId: string, change: MembershipChange, now: number): Promise<boolean> {
  const payload = JSON.stringify(change);
  const key = createHash('sha256').update(payload).digest('hex');
  const res = await tx
    .insertInto('recorded_events')
    .values({ app_id: appId, event_key: key, type: change.type, payload, at: change.at, received_at: now })
    .onConflict((oc) => oc.columns(['app_id', 'event_key']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
}

async function applyOne(tx: Tx, appId: string, c: MembershipChange, now: number): Promise<ChangeOutcome> {
  switch (c.type) {
    case 'member.joined':
    case 'member.role':
    case 'member.left': {
      const dismissed = await dismissedAt(tx, appId, c.groupId);
      if (dismissed !== null && c.at <= dismissed) return 'unchanged';
      if (!(await advance(tx, appId, c.groupId, c.userId, c.at))) return 'unchanged';
      await forgetAnswer(tx, appId, c.groupId, c.userId);
      if (c.type === 'member.left') {
        await tx
          .deleteFrom('group_members')
          .where('app_id', '=', appId)
          .where('group_id', '=', c.groupId)
          .where('user_id', '=', c.userId)
          .execute();
        return 'applied';
      }
      // A join after the group's dismissal is a group made again under the same id.
      await ensureGroup(tx, appId, c.groupId, now);
      if (dismissed !== null) await tx.updateTable('groups').set({ dismissed_at: null }).where('app_id', '=', appId).where('group_id', '=', c.groupId).execute();
      await setMember(tx, appId, c.groupId, c.userId, c.role, c.type === 'member.joined' ? c.at : null);
      if (c.type === 'member.joined') {
        // A join (again) starts from the event's time: history visibility counts from it.
        await tx
          .updateTable('group_members')
          .set({ joined_at: c.at })
          .where('app_id', '=', appId)
          .where('group_id', '=', c.groupId)
          .where('user_id', '=', c.userId)
          .execute();
      }
      return 'applied';
    }
    case 'group.dismissed': {
      if (!(await advance(tx, appId, c.groupId, '', c.at))) return 'unchanged';
      await ensureGroup(tx, appId, c.groupId, now);
      await tx.updateTable('groups').set({ dismissed_at: c.at }).where('app_id', '=', appId).where('group_id', '=', c.groupId).execute();
      await tx.deleteFrom('group_members').where('app_id', '=', appId).where('group_id', '=', c.groupId).execute();
      await tx.deleteFrom('membership_answers').where('app_id', '=', appId).where('group_id', '=', c.groupId).execute();
      if (c.purgeFiles) {
        await record(tx, appId, c, now);
        return 'recorded';
      }
      return 'applied';
    }
    case 'group.settings': {
      if (!(await advance(tx, appId, c.groupId, '', c.at))) return 'unchanged';
      await ensureGroup(tx, appId, c.groupId, now);
      await tx
        .updateTable('groups')
        .set({ history_visible: c.historyVisible ? 1 : 0 })
        .where('app_id', '=', appId)
        .where('group_id', '=', c.groupId)
        .execute();
      return 'applied';
    }
    case 'user.deleted': {
      if (!(await advance(tx, appId, '', c.userId, c.at))) return 'unchanged';
      // A deleted user belongs to no group any more; their files are the lifecycle part's work.
      await tx.deleteFrom('group_members').where('app_id', '=', appId).where('user_id', '=', c.userId).execute();
      await tx.deleteFrom('membership_answers').where('app_id', '=', appId).where('user_id', '=', c.userId).execute();
      await record(tx, appId, c, now);
      return 'recorded';
    }
    case 'message.recalled':
      return (await record(tx, appId, c, now)) ? 'recorded' : 'unchanged';
  }
}

export async function applyChanges(tx: Tx, appId: string, changes: MembershipChange[], now: number): Promise<ChangeOutcome[]> {
  const out: ChangeOutcome[] = [];
  for (const c of changes) out.push(await applyOne(tx, appId, c, now));
  return out;
}
