// Upload, step 1: check who may send what where, and hand out the slot. A chat slot is a signed
// capability (auth/slot-capability.ts): nothing is written until its upload starts. Avatar slots
// (whose object_name must answer "not uploaded yet" before the upload) and direct uploads (which
// Ferry confirms later from the record) still record a pending file.
import type { Caller, Principal } from '../auth/credentials.ts';
import { randomId } from '../random-id.ts';
import { canSendAtOnce, checkCanSendTo, checkCanSetGroupAvatar } from '../access/rules.ts';
import { mintSign } from '../auth/file-sign.ts';
import { badParam } from '../errors.ts';
import type { FileTypeInfo, ToType } from '../file-types.ts';
import type { FileKind, FileRecord } from '../meta/meta-store.ts';
import type { Services } from '../services.ts';
import { directUploadUrl, takesDirectUploads } from './direct-upload.ts';
import { newSlotSecret, slotCapability, type SlotClaims } from '../auth/slot-capability.ts';
import { noQuotaToCheck, refuseSlotOverQuota } from './app-settings.ts';

export interface UploadSlot {
  upload_url: string;
  /** PUT: a direct upload into the bucket (apps in FERRY_S3_DIRECT_UPLOAD_APPS) */
  upload_method: 'POST' | 'PUT';
  /** empty: the bytes come through Ferry, not straight to OSS */
  oss_body_param: Record<string, never>;
  download_url: string;
}

const newId = randomId;

/** Objects are spread over 64 folders by the first letter of their random id. */
const storageKeyFor = (fileId: string) => `files/${fileId.slice(0, 1)}/${fileId}`;

/** The user the file is "from": admins acting as nobody in particular send as themselves. */
const senderOf = (who: Principal) => who.userId;

async function createSlot(
  s: Services,
  appId: string,
  fields: Pick<FileRecord, 'kind' | 'fileType' | 'ownerId' | 'toId' | 'toType'>,
): Promise<FileRecord> {
  const now = Date.now();
  const id = newId(16);
  const file: FileRecord = {
    id,
    appId,
    ...fields,
    slotId: newId(24),
    slotExpiresAt: now + s.config.slotTtlSeconds * 1000,
    status: 'pending',
    storageKey: storageKeyFor(id),
    size: null,
    sha256: null,
    contentType: null,
    fileName: null,
    createdAt: now,
    completedAt: null,
  };
  await s.meta.createFile(file);
  return file;
}

type ChatSlotRequest = { type: FileTypeInfo; toId: string; toType: ToType };

/**
 * The slot at once when nothing needs reading first (most slots): a send the access rules allow
 * without a lookup, by an app without quotas, uploading through Ferry. Undefined otherwise, and
 * the caller awaits issueChatSlot(), which does the same with its reads. Every promise on this
 * path cost slots a few % of their rate (credentials.ts, authenticateNow, says why).
 */
export function issueChatSlotNow(s: Services, caller: Caller, req: ChatSlotRequest): UploadSlot | undefined {
  const who = caller.principal;
  refuseGroupOnlyToUser(req);
  if (!canSendAtOnce(who, req.toType) || !noQuotaToCheck(s, who.appId) || takesDirectUploads(s, who.appId)) return undefined;
  return capabilitySlot(s, caller, req);
}

export async function issueChatSlot(s: Services, caller: Caller, req: ChatSlotRequest): Promise<UploadSlot> {
  const who = caller.principal;
  refuseGroupOnlyToUser(req);
  if (!canSendAtOnce(who, req.toType)) await checkCanSendTo(s.membership, who, req.toType, req.toId);
  const from = senderOf(who);
  if (!noQuotaToCheck(s, who.appId)) await refuseSlotOverQuota(s, who.appId, from);
  // A direct upload is confirmed later from its record, so only those slots write one now.
  if (takesDirectUploads(s, who.appId)) {
    const file = await createSlot(s, who.appId, { kind: 'chat', fileType: req.type.code, ownerId: from, toId: req.toId, toType: req.toType });
    const sign = mintSign(caller.keys, { fid: file.id, from_id: from, to_id: req.toId, to_type: req.toType, ft: req.type.code });
    return slotAnswer(s, file, s.urls.chatDownload(sign));
  }
  return capabilitySlot(s, caller, req);
}

function refuseGroupOnlyToUser(req: ChatSlotRequest): void {
  if (req.type.groupOnly && req.toType !== 2) throw badParam(`file_type ${req.type.code} is a group shared file: send it with to_type=2`);
}

/** A slot that writes nothing: its upload_url is a capability (auth/slot-capability.ts). */
function capabilitySlot(s: Services, caller: Caller, req: ChatSlotRequest): UploadSlot {
  const fileId = newId(16);
  const terms = { expiresAt: Date.now() + s.config.slotTtlSeconds * 1000, maxBytes: s.config.limits[req.type.limit] };
  const { nonce, sc } = newSlotSecret(terms);
  const sign = mintSign(caller.keys, { fid: fileId, from_id: senderOf(caller.principal), to_id: req.toId, to_type: req.toType, ft: req.type.code, sc });
  return { upload_url: s.urls.upload(slotCapability(sign, terms, nonce)), upload_method: 'POST', oss_body_param: {}, download_url: s.urls.chatDownload(sign) };
}

/** The record a capability slot's upload claims: what the slot would have written, made now. */
export function capabilityRecord(c: SlotClaims, slotId: string, now: number): FileRecord {
  return {
    id: c.fileId,
    appId: c.appId,
    kind: c.kind,
    fileType: c.fileType,
    ownerId: c.ownerId,
    toId: c.toId,
    toType: c.toType,
    slotId,
    slotExpiresAt: c.expiresAt,
    status: 'uploading',
    storageKey: storageKeyFor(c.fileId),
    size: null,
    sha256: null,
    contentType: null,
    fileName: null,
    createdAt: now,
    completedAt: null,
  };
}

export async function issueAvatarSlot(s: Services, caller: Caller, groupId: string | undefined): Promise<UploadSlot> {
  const who = caller.principal;
  let kind: FileKind = 'avatar-user';
  if (groupId !== undefined) {
    await checkCanSetGroupAvatar(s.membership, who, groupId);
    kind = 'avatar-group';
  }
  await refuseSlotOverQuota(s, who.appId, senderOf(who));
  const file = await createSlot(s, who.appId, {
    kind,
    fileType: 0,
    ownerId: senderOf(who),
    toId: groupId ?? null,
    toType: groupId === undefined ? null : 2,
  });
  return slotAnswer(s, file, s.urls.avatarDownload(file.id));
}

async function slotAnswer(s: Services, file: FileRecord, downloadUrl: string): Promise<UploadSlot> {
  const direct = await directUploadUrl(s, file);
  // The app's clients all honour upload_method: the bytes go straight into the bucket.
  if (direct !== null) return { upload_url: direct, upload_method: 'PUT', oss_body_param: {}, download_url: downloadUrl };
  return { upload_url: s.urls.upload(file.slotId), upload_method: 'POST', oss_body_param: {}, download_url: downloadUrl };
}
