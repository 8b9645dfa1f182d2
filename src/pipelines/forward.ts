// Forward: the same bytes under a new sign for another conversation. Nothing is copied; the new
// sign points at the same file record, with the forwarder as sender.
import type { Caller } from '../auth/credentials.ts';
import { mintSign } from '../auth/file-sign.ts';
import { checkCanSendTo } from '../access/rules.ts';
import type { ToType } from '../file-types.ts';
import type { Services } from '../services.ts';
import { findChatFile } from './ready-file.ts';

export async function forwardFile(
  s: Services,
  caller: Caller,
  req: { sign: string | undefined; toId: string; toType: ToType },
): Promise<string> {
  const { file, sign } = await findChatFile(s, caller, req.sign);
  await checkCanSendTo(s.membership, caller.principal, req.toType, req.toId);
  const next = mintSign(caller.keys, {
    fid: file.id,
    from_id: caller.principal.userId,
    to_id: req.toId,
    to_type: req.toType,
    // A group's shared file (200–203) forwarded to a user becomes the plain kind (100–103).
    ft: req.toType === 1 && sign.ft >= 200 && sign.ft <= 203 ? sign.ft - 100 : sign.ft,
  });
  return s.urls.chatDownload(next);
}
