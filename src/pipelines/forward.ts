// Forward: the same bytes under a new sign for another conversation. Nothing is copied; the new
// sign points at the same file record, with the forwarder as sender, and names a reference of
// its own (claim `rid`), so it can be deleted without the others.
import type { Caller } from '../auth/credentials.ts';
import { mintSign } from '../auth/file-sign.ts';
import { checkCanSendTo } from '../access/rules.ts';
import type { ToType } from '../file-types.ts';
import type { Services } from '../services.ts';
import { randomId } from '../random-id.ts';
import { findChatFile } from './ready-file.ts';

export async function forwardFile(
  s: Services,
  caller: Caller,
  req: { sign: string | undefined; toId: string; toType: ToType },
): Promise<string> {
  const { file, sign } = await findChatFile(s, caller, req.sign);
  await checkCanSendTo(s.membership, caller.principal, req.toType, req.toId);
  // A group's shared file (200–203) forwarded to a user becomes the plain kind (100–103).
  const ft = req.toType === 1 && sign.ft >= 200 && sign.ft <= 203 ? sign.ft - 100 : sign.ft;
  const rid = randomId(16);
  await s.meta.createRef({
    id: rid,
    appId: file.appId,
    fileId: file.id,
    fromId: caller.principal.userId,
    toId: req.toId,
    toType: req.toType,
    fileType: ft,
    state: 'live',
    createdAt: Date.now(),
    deletedAt: null,
  });
  const next = mintSign(caller.keys, { fid: file.id, from_id: caller.principal.userId, to_id: req.toId, to_type: req.toType, ft, rid });
  return s.urls.chatDownload(next);
}
