// The access rules of the design brief, in one place. Each function either returns or throws a
// FerryError that says why not.
import type { Principal } from '../auth/credentials.ts';
import { Codes, FerryError, noPermission } from '../errors.ts';
import type { ToType } from '../file-types.ts';
import type { MetaStore } from '../meta/meta-store.ts';

interface Conversation {
  fromId: string;
  toId: string;
  toType: ToType;
}

async function requireGroup(meta: MetaStore, appId: string, groupId: string): Promise<void> {
  if (!(await meta.getGroup(appId, groupId))) throw new FerryError(Codes.GROUP_NOT_FOUND, `group ${groupId} not found`);
}

/**
 * A chat file is readable by its sender, by the receiving user, and by the current members of
 * the receiving group; an admin token reads everything in its app.
 */
export async function checkCanRead(meta: MetaStore, who: Principal, conv: Conversation): Promise<void> {
  switch (who.kind) {
    case 'admin':
      return;
    case 'group-admin':
      await requireGroup(meta, who.appId, who.groupId);
      if (conv.toType === 2 && conv.toId === who.groupId) return;
      throw noPermission('this file was not sent to that group');
    case 'user':
      if (conv.fromId === who.userId) return;
      if (conv.toType === 1 && conv.toId === who.userId) return;
      if (conv.toType === 2 && (await meta.getMemberRole(who.appId, conv.toId, who.userId)) !== null) return;
      throw noPermission('no access to this file');
  }
}

/** Sending to a group needs membership of it; any user may send to any user. */
export async function checkCanSendTo(meta: MetaStore, who: Principal, toType: ToType, toId: string): Promise<void> {
  if (toType === 1) {
    if (who.kind === 'group-admin') throw noPermission('a token acting as a group admin can only send to that group');
    return;
  }
  await requireGroup(meta, who.appId, toId);
  if (who.kind === 'admin') return;
  if (who.kind === 'group-admin') {
    if (who.groupId === toId) return;
    throw noPermission('a token acting as a group admin can only send to that group');
  }
  if ((await meta.getMemberRole(who.appId, toId, who.userId)) === null) {
    throw new FerryError(Codes.NOT_GROUP_MEMBER, `user ${who.userId} is not a member of group ${toId}`);
  }
}

/** Group avatars: the group's owner or admins, or an admin token. */
export async function checkCanSetGroupAvatar(meta: MetaStore, who: Principal, groupId: string): Promise<void> {
  await requireGroup(meta, who.appId, groupId);
  if (who.kind === 'admin') return;
  if (who.kind === 'group-admin') {
    if (who.groupId === groupId) return;
    throw noPermission('a token acting as a group admin can only change that group');
  }
  const role = await meta.getMemberRole(who.appId, groupId, who.userId);
  if (role === null) throw new FerryError(Codes.NOT_GROUP_MEMBER, `user ${who.userId} is not a member of group ${groupId}`);
  if (role !== 'owner' && role !== 'admin') throw noPermission("only the group's owner or admins may change its avatar");
}
