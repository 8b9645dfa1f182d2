// The file record a download or a forward is about: a chat file_sign verified and its
// conversation checked against the access rules, or an avatar's object_name, resolved to a
// record whose bytes are all there.
import type { Caller } from '../auth/credentials.ts';
import { refIdOf, verifySign, type SignClaims } from '../auth/file-sign.ts';
import { canReadAtOnce, checkCanRead } from '../access/rules.ts';
import { Codes, FerryError, badParam } from '../errors.ts';
import type { FileRecord, RefState } from '../meta/meta-store.ts';
import type { Services } from '../services.ts';
import { confirmDirectUpload } from './direct-upload.ts';

export interface ReadyFile extends FileRecord {
  size: number;
  sha256: string;
  contentType: string;
}

export function requireReady(file: FileRecord | null): ReadyFile {
  if (!file) throw new FerryError(Codes.NOT_FOUND, 'file not found');
  if (file.status !== 'ready' || file.size === null || file.sha256 === null || file.contentType === null) {
    throw new FerryError(Codes.NOT_UPLOADED, 'file has not been uploaded yet');
  }
  return file as ReadyFile;
}

/**
 * A deleted or quarantined download_url is refused with a code of its own. The state is read
 * from the database on every request (never from a node's cache), so a delete on one node is
 * refused on every node at once; it is one primary-key read.
 */
export function requireLive(state: RefState | null | undefined): void {
  if (state === 'live') return;
  if (state === 'quarantined') throw new FerryError(Codes.FILE_QUARANTINED, 'this file is quarantined by the operator');
  if (state === 'deleted') throw new FerryError(Codes.FILE_DELETED, 'this file was deleted');
  throw new FerryError(Codes.NOT_FOUND, 'file not found');
}

/**
 * A direct upload becomes ready when it is first needed (pipelines/direct-upload.ts). Asked
 * first so that a ready file, nearly every one, costs no await.
 */
const unconfirmed = (file: FileRecord | null): file is FileRecord => file !== null && file.status !== 'ready';

export async function findChatFile(s: Services, caller: Caller, rawSign: string | undefined): Promise<{ file: ReadyFile; sign: SignClaims }> {
  const sign = verifySign(caller.keys, rawSign);
  let record: Promise<FileRecord | null> | undefined;
  const load = () => (record ??= s.meta.getFile(caller.principal.appId, sign.fid));
  // Access is decided by the sign's conversation: a forwarded sign names the new one. The
  // record is read before the check only when history visibility needs the time it was sent.
  const conversation = { fromId: sign.from_id, toId: sign.to_id, toType: sign.to_type };
  if (!canReadAtOnce(caller.principal, conversation)) await checkCanRead(s.membership, caller.principal, conversation, async () => sentAt(await load(), sign));
  // The reference's state is read every time, never cached: a delete is in force at once on every node.
  const [found, ref] = await Promise.all([load(), s.meta.getRef(caller.principal.appId, refIdOf(sign))]);
  if (!ref) refuseUnwritten(s, found, sign);
  requireLive(ref?.state);
  const file = requireReady(unconfirmed(found) ? await confirmDirectUpload(s, found) : found);
  return { file, sign };
}

/**
 * A chat slot writes no record (pipelines/slots.ts): until its upload completes, its sign names a
 * file with no reference, and with no record at all until the upload starts. That is "not
 * uploaded yet" while the slot could still be used (an upload's own sign, minted with its slot,
 * within the slot's lifetime) or while an upload runs; afterwards it is "not found" (60011), as
 * a slot the janitor swept used to be.
 */
export function refuseUnwritten(s: Pick<Services, 'config'>, file: FileRecord | null, sign: SignClaims): void {
  if (uploadMayStillCome(s, file, sign)) throw new FerryError(Codes.NOT_UPLOADED, 'file has not been uploaded yet');
}

/**
 * Whether a sign whose reference is not written yet may still become a file: its upload runs
 * (a record not ready), or its slot could still be used (an upload's own sign within the slot's
 * lifetime).
 */
export function uploadMayStillCome(s: Pick<Services, 'config'>, file: FileRecord | null, sign: SignClaims): boolean {
  const slotOpen = sign.rid === undefined && sign.iat !== undefined && (sign.iat + s.config.slotTtlSeconds) * 1000 > Date.now();
  return file ? file.status !== 'ready' : slotOpen;
}

/**
 * When a file was sent to its conversation, for history visibility: the message carrying it
 * goes out once the upload has finished (completedAt), and a forward sends it again when its
 * sign is minted (the sign's iat), so the later of the two. A record not finished yet counts
 * from now (whoever can see it later joined before it was sent).
 */
function sentAt(file: FileRecord | null, sign: SignClaims): number {
  const uploaded = file?.completedAt ?? Date.now();
  return Math.max(uploaded, (sign.iat ?? 0) * 1000);
}

const OBJECT_NAME = /^[A-Za-z0-9._-]{1,128}$/;

export function parseObjectName(raw: string | undefined): string {
  if (raw === undefined || raw === '') throw badParam('object_name is required');
  if (raw.length > 128) throw badParam('object_name is too long (128 characters at most)');
  if (!OBJECT_NAME.test(raw) || raw.includes('..')) {
    throw badParam('object_name may only contain letters, digits, ".", "_" and "-" (no "/", "..", or control characters)');
  }
  return raw;
}

/** Avatars are public within their app: any valid token of the app may read them. */
export async function findAvatar(s: Services, appId: string, rawName: string | undefined): Promise<ReadyFile> {
  const name = parseObjectName(rawName);
  const [file, ref] = await Promise.all([s.meta.getFile(appId, name), s.meta.getRef(appId, name)]);
  if (!file || file.kind === 'chat') throw new FerryError(Codes.NOT_FOUND, 'avatar not found');
  requireLive(ref?.state);
  return requireReady(unconfirmed(file) ? await confirmDirectUpload(s, file) : file);
}
