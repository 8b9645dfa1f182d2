// Lanying's group shared files (/group/file/*): a group's file space. The bytes go up first as
// a 200–203 upload to the group; the client then registers its download_url here. Ferry takes
// size and type from its own record, never from the client. Members list and read; the
// uploader, the group's owner and admins (and admin tokens) rename and delete. Deleting one
// deletes its URL (refused afterwards); the bytes go with the file's last reference.
import { randomBytes } from 'node:crypto';
import type { Caller } from '../auth/credentials.ts';
import { refIdOf, verifySign } from '../auth/file-sign.ts';
import { checkCanSendTo } from '../access/rules.ts';
import { Codes, FerryError, badParam } from '../errors.ts';
import { canonicalId, parseId } from '../ids.ts';
import { AlreadyExistsError, type SharedFileRecord } from '../meta/meta-store.ts';
import type { Services } from '../services.ts';
import { audit, deleteReference } from './lifecycle.ts';
import { namedFile } from './links.ts';
import { refuseUnwritten, requireLive, requireReady } from './ready-file.ts';

const MAX_NAME = 255;

/** ids within 2^53 travel as JSON numbers (what the web SDK expects); larger ones as strings, kept exact */
const idOut = (v: string): number | string => (Number.isSafeInteger(Number(v)) ? Number(v) : v);

export interface SharedFileDto {
  file_id: number;
  group_id: number | string;
  name: string;
  size: number;
  type: number;
  url: string;
  uploader: number | string;
  created_at: number;
  updated_at: number;
}

const dto = (f: SharedFileRecord): SharedFileDto => ({
  file_id: f.fileId,
  group_id: idOut(f.groupId),
  name: f.name,
  size: f.size,
  type: f.type,
  url: f.url,
  uploader: idOut(f.uploader),
  created_at: f.createdAt,
  updated_at: f.updatedAt,
});

/** A new file_id: random, below 2^53, so JavaScript clients keep it exact. */
const newFileId = (): number => Number(randomBytes(8).readBigUInt64BE() & ((1n << 53n) - 1n)) || 1;

function parseName(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw badParam('name is required');
  const name = raw.trim();
  if ([...name].length > MAX_NAME) throw badParam(`name may be ${MAX_NAME} characters at most`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw badParam('name may not contain control characters');
  return name;
}

function parseFileId(raw: unknown): number {
  const id = canonicalId(raw);
  const n = id === null ? NaN : Number(id);
  if (!Number.isSafeInteger(n)) throw badParam('file_id must be a positive integer');
  return n;
}

async function sharedFileOf(s: Services, appId: string, groupId: string, fileId: number): Promise<SharedFileRecord> {
  const f = await s.meta.getSharedFile(appId, fileId);
  if (!f || f.groupId !== groupId) throw new FerryError(Codes.SHARED_FILE_NOT_FOUND, `shared file ${fileId} not found in group ${groupId}`);
  return f;
}

/** Rename and delete: the uploader, the group's owner and admins, an admin token (or one acting as the group's admin). */
async function checkCanManage(s: Services, caller: Caller, f: SharedFileRecord): Promise<void> {
  const who = caller.principal;
  if (who.kind === 'admin' || (who.kind === 'group-admin' && who.groupId === f.groupId)) return;
  if (who.kind === 'user') {
    if (who.userId === f.uploader) return;
    const role = await s.meta.getMemberRole(who.appId, f.groupId, who.userId);
    if (role === 'owner' || role === 'admin') return;
  }
  throw new FerryError(Codes.SHARED_FILE_NO_PERMISSION, "only the file's uploader or the group's owner and admins may change it");
}

/** POST /group/file/upload */
export async function registerSharedFile(s: Services, caller: Caller, body: Record<string, unknown>): Promise<SharedFileDto> {
  const appId = caller.principal.appId;
  const groupId = parseId('group_id', body.group_id);
  const name = parseName(body.name);
  if (typeof body.url !== 'string' || body.url === '') throw badParam('url is required: the download_url of a group shared upload (file_type 200–203)');
  await checkCanSendTo(s.meta, caller.principal, 2, groupId);
  let named: ReturnType<typeof namedFile>;
  try {
    named = namedFile(body.url);
  } catch {
    throw badParam('url is not a download_url of Ferry');
  }
  if (!('sign' in named)) throw badParam('url is an avatar, not a group shared upload');
  const sign = verifySign(caller.keys, named.sign);
  if (sign.to_type !== 2 || sign.to_id !== groupId || sign.ft < 200 || sign.ft > 203) {
    throw badParam(`url is not a group shared upload (file_type 200–203) to group ${groupId}`);
  }
  const refId = refIdOf(sign);
  const [ref, found] = await Promise.all([s.meta.getRef(appId, refId), s.meta.getFile(appId, sign.fid)]);
  if (!ref) refuseUnwritten(s, found, sign);
  requireLive(ref?.state);
  const file = requireReady(found);
  const now = Date.now();
  const rec: SharedFileRecord = {
    fileId: newFileId(),
    appId,
    groupId,
    refId,
    url: body.url,
    name,
    size: file.size,
    type: sign.ft,
    uploader: caller.principal.userId,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await s.meta.createSharedFile(rec);
  } catch (err) {
    if (err instanceof AlreadyExistsError) throw badParam('this url is already registered in the group');
    throw err;
  }
  return dto(rec);
}

/** GET /group/file/list */
export async function listSharedFiles(s: Services, caller: Caller, rawGroupId: unknown): Promise<SharedFileDto[]> {
  const groupId = parseId('group_id', rawGroupId);
  await checkCanSendTo(s.meta, caller.principal, 2, groupId);
  return (await s.meta.listSharedFiles(caller.principal.appId, groupId)).map(dto);
}

/** GET /group/file */
export async function getSharedFile(s: Services, caller: Caller, rawGroupId: unknown, rawFileId: unknown): Promise<SharedFileDto> {
  const groupId = parseId('group_id', rawGroupId);
  const fileId = parseFileId(rawFileId);
  await checkCanSendTo(s.meta, caller.principal, 2, groupId);
  return dto(await sharedFileOf(s, caller.principal.appId, groupId, fileId));
}

/** POST|DELETE /group/file/delete: a result per file_id. */
export async function deleteSharedFiles(
  s: Services,
  caller: Caller,
  body: Record<string, unknown>,
): Promise<Array<{ file_id: number | string; result: 'success' | 'fail'; reason: string | null }>> {
  const groupId = parseId('group_id', body.group_id);
  if (!Array.isArray(body.file_list) || body.file_list.length === 0) throw badParam('file_list must be a non-empty list of file_id');
  if (body.file_list.length > 1000) throw badParam('file_list may hold 1000 file_id at most');
  await checkCanSendTo(s.meta, caller.principal, 2, groupId);
  const appId = caller.principal.appId;
  const out: Array<{ file_id: number | string; result: 'success' | 'fail'; reason: string | null }> = [];
  for (const raw of body.file_list as unknown[]) {
    try {
      const f = await sharedFileOf(s, appId, groupId, parseFileId(raw));
      await checkCanManage(s, caller, f);
      await deleteReference(s, appId, f.refId);
      await audit(s.meta, appId, `user:${caller.principal.userId}`, 'shared.delete', f.url, { group_id: groupId, file_id: f.fileId });
      out.push({ file_id: f.fileId, result: 'success', reason: null });
    } catch (err) {
      if (!(err instanceof FerryError)) throw err;
      out.push({ file_id: typeof raw === 'number' || typeof raw === 'string' ? raw : String(raw), result: 'fail', reason: `${err.code}: ${err.message}` });
    }
  }
  return out;
}

/** POST|PUT /group/file/update_name */
export async function renameSharedFile(s: Services, caller: Caller, body: Record<string, unknown>): Promise<true> {
  const groupId = parseId('group_id', body.group_id);
  const fileId = parseFileId(body.file_id);
  const name = parseName(body.name);
  await checkCanSendTo(s.meta, caller.principal, 2, groupId);
  const f = await sharedFileOf(s, caller.principal.appId, groupId, fileId);
  await checkCanManage(s, caller, f);
  await s.meta.renameSharedFile(f.appId, fileId, name, Date.now());
  return true;
}
