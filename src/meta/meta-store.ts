// The metadata seam. Everything above it (pipelines, routes, admin) talks to this interface
// only; SQLite (embedded) and PostgreSQL (scale-out) sit below it.

export interface AppRecord {
  appId: string;
  /** signs and verifies access tokens (the IM server holds it too) */
  secret: string;
  /** signs file_sign values; Ferry's alone, so token holders cannot mint signs */
  signKey: string;
  createdAt: number;
}

export type MemberRole = 'member' | 'admin' | 'owner';

export interface GroupRecord {
  appId: string;
  groupId: string;
  ownerId: string;
}

export type FileKind = 'chat' | 'avatar-user' | 'avatar-group';
/** pending: slot handed out; uploading: bytes arriving; ready: downloadable */
export type FileStatus = 'pending' | 'uploading' | 'ready';

export interface FileRecord {
  /** opaque, random; the file_sign and avatar object_name point at it */
  id: string;
  appId: string;
  kind: FileKind;
  /** Lanying file_type (100–104, 200–203); 0 for avatars */
  fileType: number;
  /** who asked for the slot */
  ownerId: string;
  /** chat: the receiving user or group; group avatar: the group */
  toId: string | null;
  toType: 1 | 2 | null;
  /** secret part of upload_url; separate from id because signs are readable */
  slotId: string;
  slotExpiresAt: number;
  status: FileStatus;
  storageKey: string;
  size: number | null;
  sha256: string | null;
  contentType: string | null;
  fileName: string | null;
  createdAt: number;
  completedAt: number | null;
  /** images and video: the shown size, probed at upload (null when unknown) */
  width?: number | null;
  height?: number | null;
  /** voice and video, probed at upload (null when unknown) */
  durationMs?: number | null;
}

export interface CompletedUpload {
  size: number;
  sha256: string;
  contentType: string;
  fileName: string | null;
  width?: number | null;
  height?: number | null;
  durationMs?: number | null;
}

/** A thumbnail, cover or converted voice file, made once and kept beside its original. */
export interface DerivativeRecord {
  fileId: string;
  /** e.g. thumb-400x400, cover-800x800, mp3, amr */
  variant: string;
  storageKey: string;
  size: number;
  sha256: string;
  contentType: string;
  createdAt: number;
}

export type ClaimResult =
  | { ok: true; file: FileRecord }
  | { ok: false; reason: 'not-found' | 'expired' | 'used' | 'busy' };

export class AlreadyExistsError extends Error {}

/** One record of a store's whole content, for copying a store into another (migrate-store). */
export type MetaRecord =
  | { kind: 'app'; app: AppRecord }
  | { kind: 'group'; group: GroupRecord }
  | { kind: 'member'; appId: string; groupId: string; userId: string; role: MemberRole }
  /** ready files only: a slot that never became a file is not worth moving */
  | { kind: 'file'; file: FileRecord }
  | { kind: 'derivative'; derivative: DerivativeRecord };

export interface MetaStore {
  /**
   * Whether other processes (other Ferry nodes) may use the same database at the same time.
   * true (PostgreSQL): work done once across nodes needs a lease in the database, not a lock in
   * memory. false (embedded SQLite, one process owns it): nothing else can be holding an upload
   * claim, so claims left by a crash are released at start instead of after STALE_CLAIM_MS.
   */
  readonly sharedByNodes: boolean;
  /** Bring the schema up to date; safe to call on every start and from many nodes. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  createApp(app: AppRecord): Promise<void>;
  getApp(appId: string): Promise<AppRecord | null>;

  // ── console lists: paged listings for the operator console and `ferry app list` / `group list`
  /** Apps in app_id order, those after `after` (exclusive), at most `limit`. */
  listApps(opts: { after?: string; limit: number }): Promise<AppRecord[]>;
  /**
   * An app's groups in numeric group_id order, those after `after` (exclusive), at most `limit`;
   * with ownerId only the groups that user owns.
   */
  listGroups(appId: string, opts: { after?: string; limit: number; ownerId?: string }): Promise<GroupRecord[]>;
  // ── end of console lists

  /** Create or update a group; its owner becomes a member with role owner. */
  putGroup(group: GroupRecord): Promise<void>;
  getGroup(appId: string, groupId: string): Promise<GroupRecord | null>;
  putMember(appId: string, groupId: string, userId: string, role: MemberRole): Promise<void>;
  /** true when the member existed */
  removeMember(appId: string, groupId: string, userId: string): Promise<boolean>;
  getMemberRole(appId: string, groupId: string, userId: string): Promise<MemberRole | null>;

  createFile(file: FileRecord): Promise<void>;
  getFile(appId: string, id: string): Promise<FileRecord | null>;
  /**
   * Atomically move a pending, unexpired slot to uploading, so only one upload runs. A slot
   * stuck in uploading with a claim older than staleBefore (its node died) is claimed again.
   */
  claimSlot(slotId: string, now: number, staleBefore: number, opts?: { ignoreExpiry?: boolean }): Promise<ClaimResult>;
  /** Keep an upload's claim fresh while bytes arrive. */
  touchClaim(id: string, now: number): Promise<void>;
  /** Give back every upload claim taken before `before` (their uploads died); returns how many. */
  releaseClaims(before: number): Promise<number>;
  /** A failed upload gives its slot back (status pending) so the client can retry. */
  releaseSlot(id: string): Promise<void>;
  completeUpload(id: string, done: CompletedUpload, now: number): Promise<FileRecord>;
  /** Slots that expired without bytes (or whose upload died), for the janitor. */
  listExpiredSlots(now: number, staleBefore: number, limit: number): Promise<FileRecord[]>;
  /** Forget a slot that never became a file; a ready file is never deleted this way. */
  deleteFile(id: string): Promise<void>;

  getDerivative(fileId: string, variant: string): Promise<DerivativeRecord | null>;
  /** Record a derivative; when one is already recorded (another node made it), that one wins and is returned. */
  putDerivative(d: DerivativeRecord): Promise<DerivativeRecord>;

  /**
   * Every app, group, member, ready file and derivative, in that order (so each record's
   * parents come first), read page by page.
   */
  exportRecords(): AsyncIterable<MetaRecord>;
  /** Add a record unless one with its key exists; true when it was added. */
  importRecord(record: MetaRecord): Promise<boolean>;

  /** Take the named lease for ttlMs unless another holder has it unexpired; true when taken. */
  acquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
}
