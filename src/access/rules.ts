// The access rules of the design brief, in one place. Each function either returns or throws a
// FerryError that says why not.
//
// Reading is decided by the conversation a file_sign names, never by where the bytes were first
// uploaded: a forward mints a sign for a new conversation with the forwarder as sender. So a
// group member who forwards a group file to themselves keeps that copy after leaving the group
// (they could have saved the bytes anyway; taking back the copy would only pretend otherwise),
// while the group's own link, and forwarding from it, follow current membership.
import type { Principal } from '../auth/credentials.ts';
import { Codes, FerryError, noPermission } from '../errors.ts';
import type { ToType } from '../file-types.ts';
import type { GroupRecord, MemberRole } from '../meta/meta-store.ts';
import type { MemberState } from '../membership/membership.ts';

/**
 * Where the rules learn about groups: the membership service (src/membership/), which also
 * knows join times and history visibility and asks the operator's IM server, or a bare
 * MetaStore (both reads are on it).
 */
export interface GroupDirectory {
  getGroup(appId: string, groupId: string): Promise<GroupRecord | null>;
  getMemberRole(appId: string, groupId: string, userId: string): Promise<MemberRole | null>;
  memberState?(appId: string, groupId: string, userId: string): Promise<MemberState>;
}

async function stateOf(meta: GroupDirectory, appId: string, groupId: string, userId: string): Promise<MemberState> {
  if (meta.memberState) return meta.memberState(appId, groupId, userId);
  const role = await meta.getMemberRole(appId, groupId, userId);
  return { role, joinedAt: null, historyVisible: true, groupKnown: role !== null || (await meta.getGroup(appId, groupId)) !== null };
}

export interface Conversation {
  fromId: string;
  toId: string;
  toType: ToType;
}

async function requireGroup(meta: GroupDirectory, appId: string, groupId: string): Promise<void> {
  if (!(await meta.getGroup(appId, groupId))) throw new FerryError(Codes.GROUP_NOT_FOUND, `group ${groupId} not found`);
}

/**
 * A chat file is readable by its sender, by the receiving user, and by the current members of
 * the receiving group; an admin token reads everything in its app. A member who joined after
 * the file was sent (sentAt, read only when needed) reads it only if the group shows its history
 * to new members (history_visible, the default).
 */
export async function checkCanRead(meta: GroupDirectory, who: Principal, conv: Conversation, sentAt?: () => Promise<number>): Promise<void> {
  // An admin, the sender and the receiving user are decided there; what is left needs a lookup.
  if (canReadAtOnce(who, conv)) return;
  if (who.kind === 'group-admin') {
    await requireGroup(meta, who.appId, who.groupId);
    if (conv.toType === 2 && conv.toId === who.groupId) return;
    throw noPermission('this file was not sent to that group');
  }
  if (who.kind === 'user' && conv.toType === 2) {
    const st = await stateOf(meta, who.appId, conv.toId, who.userId);
    if (st.role === null) throw noPermission('no access to this file');
    if (st.historyVisible || st.joinedAt === null || !sentAt) return;
    if (st.joinedAt <= (await sentAt())) return;
    throw noPermission(`no access to this file: it was sent to group ${conv.toId} before you joined, and the group does not show earlier messages to new members`);
  }
  throw noPermission('no access to this file');
}

/**
 * The reads checkCanRead allows without looking anything up: an admin's, the sender's, the
 * receiving user's. false says nothing: checkCanRead decides. The hot paths ask this first, so
 * the common case costs no await (credentials.ts, authenticateNow, says why that matters).
 */
export function canReadAtOnce(who: Principal, conv: Conversation): boolean {
  if (who.kind === 'admin') return true;
  return who.kind === 'user' && (conv.fromId === who.userId || (conv.toType === 1 && conv.toId === who.userId));
}

/** The sends checkCanSendTo allows without looking anything up: a user's or an admin's to a user. */
export function canSendAtOnce(who: Principal, toType: ToType): boolean {
  return toType === 1 && who.kind !== 'group-admin';
}

/** Sending to a group needs membership of it; any user may send to any user. */
export async function checkCanSendTo(meta: GroupDirectory, who: Principal, toType: ToType, toId: string): Promise<void> {
  if (canSendAtOnce(who, toType)) return;
  if (toType === 1) throw noPermission('a token acting as a group admin can only send to that group');
  if (who.kind === 'user') {
    await requireMember(meta, who.appId, toId, who.userId);
    return;
  }
  await requireGroup(meta, who.appId, toId);
  if (who.kind === 'admin') return;
  if (who.kind === 'group-admin') {
    if (who.groupId === toId) return;
    throw noPermission('a token acting as a group admin can only send to that group');
  }
}

/** The member's role; a group Ferry does not know is 20001, a non-member 20002. */
async function requireMember(meta: GroupDirectory, appId: string, groupId: string, userId: string): Promise<MemberRole> {
  const st = await stateOf(meta, appId, groupId, userId);
  if (st.role !== null) return st.role;
  if (!st.groupKnown) throw new FerryError(Codes.GROUP_NOT_FOUND, `group ${groupId} not found`);
  throw new FerryError(Codes.NOT_GROUP_MEMBER, `user ${userId} is not a member of group ${groupId}`);
}

/** Group avatars: the group's owner or admins, or an admin token. */
export async function checkCanSetGroupAvatar(meta: GroupDirectory, who: Principal, groupId: string): Promise<void> {
  if (who.kind !== 'user') await requireGroup(meta, who.appId, groupId);
  if (who.kind === 'admin') return;
  if (who.kind === 'group-admin') {
    if (who.groupId === groupId) return;
    throw noPermission('a token acting as a group admin can only change that group');
  }
  const role = await requireMember(meta, who.appId, groupId, who.userId);
  if (role !== 'owner' && role !== 'admin') throw noPermission("only the group's owner or admins may change its avatar");
}
