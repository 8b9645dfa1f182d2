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

// ── membership (issue 9): what the operator's IM server told Ferry, by push, event or answer ──

export interface MemberEntry {
  userId: string;
  role: MemberRole;
  /** when the user joined (ms), as the IM server says; null when unknown (treated as "always") */
  joinedAt: number | null;
}

export interface GroupSettings {
  ownerId: string;
  /** the last bulk push's version; null when none carried one */
  version: number | null;
  /** whether members read files sent before they joined (Lanying's default: true) */
  historyVisible: boolean;
}

/** What the IM server answered when asked about one (group, user). */
export interface MembershipAnswer {
  member: boolean;
  role: MemberRole | null;
  joinedAt: number | null;
  /** when Ferry asked (ms) */
  askedAt: number;
}

/** Everything Ferry knows about one (group, user), read in one go on the download path. */
export interface MembershipFacts {
  /** null: no such group, or it was dismissed */
  group: GroupSettings | null;
  /** the group was dismissed (and not made again since) */
  dismissed: boolean;
  member: { role: MemberRole; joinedAt: number | null } | null;
  answer: MembershipAnswer | null;
}

/** One signed event, checked and with canonical ids (pipelines/events.ts). */
export type MembershipChange =
  | { type: 'member.joined'; groupId: string; userId: string; role: MemberRole; at: number }
  | { type: 'member.left'; groupId: string; userId: string; at: number }
  | { type: 'member.role'; groupId: string; userId: string; role: MemberRole; at: number }
  | { type: 'group.dismissed'; groupId: string; purgeFiles: boolean; at: number }
  | { type: 'group.settings'; groupId: string; historyVisible: boolean; at: number }
  | { type: 'user.deleted'; userId: string; at: number }
  | { type: 'message.recalled'; urls: string[]; at: number };

/**
 * applied: the change is in force; unchanged: a duplicate, or older than what was applied for
 * the same (group, user); recorded: kept for a part of Ferry that applies it later (file
 * deletion), membership effects (if any) applied.
 */
export type ChangeOutcome = 'applied' | 'unchanged' | 'recorded';

export type ReplaceResult = { applied: true; version: number | null; count: number } | { applied: false; version: number | null };

export interface RecordedEvent {
  type: string;
  payload: string;
  at: number;
  receivedAt: number;
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

  /** Create or update a group; its owner becomes a member with role owner. */
  putGroup(group: GroupRecord): Promise<void>;
  getGroup(appId: string, groupId: string): Promise<GroupRecord | null>;
  putMember(appId: string, groupId: string, userId: string, role: MemberRole): Promise<void>;
  /** true when the member existed */
  removeMember(appId: string, groupId: string, userId: string): Promise<boolean>;
  getMemberRole(appId: string, groupId: string, userId: string): Promise<MemberRole | null>;

  // ── membership (issue 9) ──
  /** The group, the member row and the IM server's last answer for (group, user), in one read. */
  getMembership(appId: string, groupId: string, userId: string): Promise<MembershipFacts>;
  /**
   * Replace a group's whole member list in one transaction (rows written in batches), creating
   * or reviving the group. With a version not above the stored one nothing changes. Answers the
   * IM server gave about the group are forgotten (the push is newer).
   */
  replaceMembers(appId: string, groupId: string, members: MemberEntry[], opts: { version?: number; now: number }): Promise<ReplaceResult>;
  /** Add (or update) members without removing anyone: a long import's later batches. */
  addMembers(appId: string, groupId: string, members: MemberEntry[], now: number): Promise<void>;
  /** null when the group does not exist (or was dismissed). Members ordered by user_id. */
  listMembers(appId: string, groupId: string): Promise<(GroupSettings & { members: MemberEntry[] }) | null>;
  /** Members and answers go; the group is kept as dismissed. false when there was no live group. */
  dismissGroup(appId: string, groupId: string, at: number): Promise<boolean>;
  /** false when there is no live group. */
  setHistoryVisible(appId: string, groupId: string, visible: boolean): Promise<boolean>;
  /** All or nothing: every change in one transaction, each compared with the newest applied for its key. */
  applyMembershipChanges(appId: string, changes: MembershipChange[], now: number): Promise<ChangeOutcome[]>;
  putMembershipAnswer(appId: string, groupId: string, userId: string, answer: MembershipAnswer): Promise<void>;
  /** The app's own IM server URL (PATCH /admin/apps/:app_id membership_url); null: the global one. */
  getMembershipUrl(appId: string): Promise<string | null>;
  setMembershipUrl(appId: string, url: string | null): Promise<void>;
  /** Events recorded for later (message.recalled, user.deleted, group purges), oldest first. */
  listRecordedEvents(appId: string, limit: number): Promise<RecordedEvent[]>;

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
