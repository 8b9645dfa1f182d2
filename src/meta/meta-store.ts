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

/**
 * What verifies an app's credentials beyond its current keys (0006_operations): the secret a
 * rotation replaced, accepted until its grace period ends; every sign key a rotation retired,
 * kept for good because signs in chat history never change; and per-user token revocations.
 * `version` moves on every rotation and revocation, so nodes can check it cheaply.
 */
export interface AppKeyring {
  app: AppRecord;
  version: number;
  previousSecret: { secret: string; until: number } | null;
  /** newest first */
  retiredSignKeys: { signKey: string; retiredAt: number }[];
  /** tokens of userId issued (iat) before `before` (ms) are refused */
  revocations: { userId: string; before: number }[];
  /**
   * upload slots handed out to userId before `before` (ms) take no upload, while the user's
   * tokens stay valid (an admin erasure: 0008_slot_revocations). A token revocation ends slots too.
   */
  slotRevocations: { userId: string; before: number }[];
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
/**
 * pending: slot handed out; uploading: bytes arriving; ready: downloadable; purging: its last
 * reference was deleted and its bytes are leaving the store; deleted: they are gone.
 */
export type FileStatus = 'pending' | 'uploading' | 'ready' | 'purging' | 'deleted';

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

/** A reference's state: quarantine is set on every reference of the quarantined bytes. */
export type RefState = 'live' | 'quarantined' | 'deleted';

/**
 * One download_url: the original upload's (its id is the file's id) or one forward's (its id is
 * the sign's `rid` claim). Each is deleted on its own; the bytes go with the last one.
 */
export interface FileRef {
  id: string;
  appId: string;
  fileId: string;
  /** the sender the sign names */
  fromId: string;
  toId: string | null;
  toType: 1 | 2 | null;
  fileType: number;
  state: RefState;
  createdAt: number;
  deletedAt: number | null;
}

/** What deleting a reference did. */
export interface RefDeletion {
  ref: FileRef;
  /** it was deleted before this call */
  already: boolean;
  /** set when this was the file's last reference: the file is now purging, its bytes must go */
  purge: FileRecord | null;
}

/** Usage is counted per kind, as retention_days names them. */
export type UsageKind = 'chat' | 'voice' | 'image' | 'video' | 'shared' | 'avatar';

export interface UsageRow {
  /** '*' is the app's total */
  userId: string;
  kind: UsageKind;
  bytes: number;
  files: number;
}

/** What one app added and removed of one kind on one UTC day. */
export interface UsageDay {
  /** 'YYYY-MM-DD', UTC */
  day: string;
  kind: UsageKind;
  bytesAdded: number;
  filesAdded: number;
  bytesRemoved: number;
  filesRemoved: number;
}

/** A file in a group's shared-file space (Lanying's /group/file/*). */
export interface SharedFileRecord {
  /** below 2^53, so JavaScript clients keep it exact */
  fileId: number;
  appId: string;
  groupId: string;
  refId: string;
  url: string;
  name: string;
  size: number;
  type: number;
  uploader: string;
  createdAt: number;
  updatedAt: number;
}

export interface AuditEntry {
  /** sortable by time: ids later in the log compare greater */
  id: string;
  appId: string;
  at: number;
  /** admin-key, event, janitor, or a Lanying user ("user:<id>") */
  actor: string;
  action: string;
  target: string;
  detail: string | null;
}

export type ClaimResult =
  | { ok: true; file: FileRecord }
  | { ok: false; reason: 'not-found' | 'expired' | 'used' | 'busy' };

export class AlreadyExistsError extends Error {}

/** One record of a store's whole content, for copying a store into another (migrate-store). */
export type MetaRecord =
  | { kind: 'app'; app: AppRecord }
  /** an app's retired keys and revocations (right after its app record) */
  | { kind: 'keyring'; keyring: Omit<AppKeyring, 'app' | 'version'> & { appId: string } }
  /** an app's own IM-server URL for membership questions (right after its app and keyring) */
  | { kind: 'membership-url'; appId: string; url: string }
  | { kind: 'group'; group: GroupRecord }
  /**
   * a group's membership state, right after the group when it differs from a new group's: the
   * last push's version, history visibility, and dismissal (a dismissed group stays dismissed)
   */
  | { kind: 'group-state'; appId: string; groupId: string; version: number | null; historyVisible: boolean; dismissedAt: number | null }
  /** joinedAt: when the user joined (ms), null when unknown; absent in exports from before membership */
  | { kind: 'member'; appId: string; groupId: string; userId: string; role: MemberRole; joinedAt?: number | null }
  /** the newest event applied per (group, user): an old event replayed after the move stays ignored */
  | { kind: 'membership-clock'; appId: string; groupId: string; userId: string; at: number }
  /** an accepted event kept for the part of Ferry that applies it (file deletion), and as history */
  | { kind: 'recorded-event'; appId: string; eventKey: string; event: RecordedEvent }
  /** ready files only: a slot that never became a file is not worth moving */
  | { kind: 'file'; file: FileRecord }
  /** the references (original and forwards, deleted ones too) of ready files */
  | { kind: 'ref'; ref: FileRef }
  | { kind: 'derivative'; derivative: DerivativeRecord }
  /**
   * a row of a lifecycle table, moved as it is (last, after the files and references it names):
   * app settings (retention, quotas), the quarantine list, usage totals, daily and history, group
   * shared files and the audit log
   */
  | { kind: 'lifecycle-row'; table: LifecycleTable; row: Record<string, string | number | null> };

/** the tables exportRecords moves row for row, each with its key */
export const LIFECYCLE_TABLES = {
  app_settings: ['app_id'],
  quarantine: ['app_id', 'sha256'],
  usage: ['app_id', 'user_id', 'kind'],
  usage_daily: ['app_id', 'user_id', 'day'],
  usage_history: ['app_id', 'day', 'kind'],
  shared_files: ['file_id'],
  audit_log: ['id'],
} as const;

export type LifecycleTable = keyof typeof LIFECYCLE_TABLES;

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

  // --- operations: health ---
  /**
   * Resolve when the database answers a trivial query (and, embedded, its file is still the one
   * opened); reject otherwise. Cheap: /readyz calls it about once a second.
   */
  ping(): Promise<void>;
  // --- operations: key rotation and token revocation ---
  /** The app with everything that verifies its credentials; null when there is no such app. */
  getAppKeyring(appId: string): Promise<AppKeyring | null>;
  /** A cheap check of whether a cached keyring is still current; null when there is no such app. */
  getAppKeysVersion(appId: string): Promise<number | null>;
  /**
   * Replace the app's secret and sign key in one step: the old secret stays accepted until
   * previousSecretUntil (a secret replaced earlier is dropped), the old sign key is retired
   * (kept for verifying). false when there is no such app.
   */
  rotateAppKeys(appId: string, next: { secret: string; signKey: string }, previousSecretUntil: number, now: number): Promise<boolean>;
  /** Refuse userId's tokens issued before `before` (ms); a later revocation moves it, an earlier one is kept. */
  revokeTokens(appId: string, userId: string, before: number): Promise<boolean>;
  /** End userId's upload slots handed out before `before` (ms), tokens untouched; later moves it, earlier is kept. */
  revokeSlots(appId: string, userId: string, before: number): Promise<boolean>;
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
  /**
   * The record becomes ready; its original reference is written here when the slot did not write
   * it. When that reference was deleted before the upload completed (tombstoneRef), the record
   * comes back `purging` instead: its bytes are to leave the store at once.
   */
  completeUpload(id: string, done: CompletedUpload, now: number): Promise<FileRecord>;
  /** Slots that expired without bytes (or whose upload died), for the janitor. */
  listExpiredSlots(now: number, staleBefore: number, limit: number): Promise<FileRecord[]>;
  /** Forget a slot that never became a file; a ready file is never deleted this way. */
  deleteFile(id: string): Promise<void>;

  // ---- slot capabilities: the record is written when the upload starts, not with the slot ----
  /**
   * Claim a capability slot's upload by inserting its record (status uploading, claimed now),
   * keyed by the file id: of two uploads racing, exactly one inserts. When the record exists,
   * a pending one (its claim was given back) or an uploading one with a claim older than
   * staleBefore (its node died) is claimed; a finished one (ready, purging, deleted) is used; a
   * running one is busy. The original reference is written by completeUpload.
   */
  claimCapability(file: FileRecord, now: number, staleBefore: number): Promise<ClaimResult>;
  /** A failed upload to a capability slot deletes its claim, so the capability can be used again. */
  dropClaim(id: string): Promise<void>;

  getDerivative(fileId: string, variant: string): Promise<DerivativeRecord | null>;
  /** Record a derivative; when one is already recorded (another node made it), that one wins and is returned. */
  putDerivative(d: DerivativeRecord): Promise<DerivativeRecord>;

  // ---- usage history: bytes and files added and removed per app, UTC day and kind ----
  /** Add to a day's counters of a kind (uploads add, purges remove); all four values are >= 0. */
  addUsageDay(appId: string, entry: UsageDay): Promise<void>;
  /** The app's days from `fromDay` ('YYYY-MM-DD', inclusive) on, by day then kind; days with nothing left out. */
  listUsageDays(appId: string, fromDay: string): Promise<UsageDay[]>;

  // ---- lifecycle: references, deletion, quarantine, usage, settings, shared files, audit ----
  // (createFile records the file's original reference, with the file's id, itself.)
  /** Record a forward's reference. */
  createRef(ref: FileRef): Promise<void>;
  /**
   * An upload's own reference deleted before the upload completed (a recalled message whose file
   * is still on its way): written already deleted, unless the reference exists by now. true
   * when written; the upload is then refused, or its bytes purged if it completes meanwhile.
   */
  tombstoneRef(ref: FileRef): Promise<boolean>;
  /**
   * tombstoneRef for every upload of this user not finished yet (its record pending or
   * uploading): a user's erasure reaches the files still on their way. How many were written.
   */
  tombstoneUploadsOf(appId: string, ownerId: string, now: number): Promise<number>;
  /** Never cached: every node sees a deletion or quarantine at once. */
  getRef(appId: string, refId: string): Promise<FileRef | null>;
  listRefsOfFile(fileId: string): Promise<FileRef[]>;
  /** Never cached: live when any reference is, else quarantined when any is, else deleted. */
  getFileState(appId: string, fileId: string): Promise<RefState>;
  /** References not deleted, sent by a user or to a conversation, by id after `after`. */
  listRefsBy(appId: string, by: { fromId: string } | { toType: 1 | 2; toId: string }, after: string, limit: number): Promise<FileRef[]>;
  /**
   * Mark a reference deleted; when no reference of its file is left, the file turns purging in
   * the same transaction and is returned for its bytes to be removed; a group shared-file
   * entry registered with the reference goes too. null: no such reference.
   */
  deleteRef(appId: string, refId: string, now: number): Promise<RefDeletion | null>;
  listDerivatives(fileId: string): Promise<DerivativeRecord[]>;
  /**
   * The bytes of a purging file are gone: drop its derivative records, mark it deleted. true
   * for the one caller that did it (a janitor retry and a delete may race on the same file; only
   * one takes its bytes off the usage counters).
   */
  finishPurge(fileId: string): Promise<boolean>;
  /** Files whose purge did not finish (the store failed), for the janitor. */
  listPurging(limit: number): Promise<FileRecord[]>;
  /** Quarantine the bytes with this hash in the app: every reference of every file holding them. false when already quarantined. */
  quarantine(appId: string, sha256: string, reason: string, now: number): Promise<boolean>;
  /** false when the hash was not quarantined. */
  release(appId: string, sha256: string): Promise<boolean>;
  getQuarantine(appId: string, sha256: string): Promise<{ reason: string; createdAt: number } | null>;
  /** Add (or, negative, remove) bytes and files to a user's and the app's usage of a kind; day adds to the user's daily bytes. */
  addUsage(appId: string, userId: string, kind: UsageKind, bytes: number, files: number, day: string | null): Promise<void>;
  /** Rows of the app total ('*') and of every user, or only of userId ('*': the total). */
  getUsage(appId: string, userId?: string): Promise<UsageRow[]>;
  getDailyBytes(appId: string, userId: string, day: string): Promise<number>;
  /** The app's settings as JSON text (null: none set). */
  getAppSettings(appId: string): Promise<string | null>;
  putAppSettings(appId: string, json: string): Promise<void>;
  /** Every app that has settings, for the janitor. */
  listAppSettings(): Promise<Array<{ appId: string; json: string }>>;
  /** Throws AlreadyExistsError when the reference is registered already. */
  createSharedFile(f: SharedFileRecord): Promise<void>;
  getSharedFile(appId: string, fileId: number): Promise<SharedFileRecord | null>;
  listSharedFiles(appId: string, groupId: string): Promise<SharedFileRecord[]>;
  renameSharedFile(appId: string, fileId: number, name: string, now: number): Promise<boolean>;
  deleteSharedFile(appId: string, fileId: number): Promise<boolean>;
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first, with ids below `before` when given. */
  listAudit(appId: string, before: string | null, limit: number): Promise<AuditEntry[]>;
  /** Ready files of these file types (kind 'chat') or avatars, completed before `before`, oldest first; quarantined bytes (kept for review) left out. */
  listFilesCompletedBefore(appId: string, which: { fileTypes: number[] } | { avatars: true }, before: number, limit: number): Promise<FileRecord[]>;
  /**
   * Ready avatars that were already behind their owner's (user or group) latest two at `before`:
   * two newer ones had been completed by then. Quarantined bytes left out.
   */
  listSupersededAvatars(before: number, limit: number): Promise<FileRecord[]>;

  /**
   * Every app, group, member, membership clock and recorded event, ready file and derivative,
   * in that order (so each record's parents come first), read page by page. The IM server's
   * remembered answers (membership_answers) are a cache and are not exported.
   */
  exportRecords(): AsyncIterable<MetaRecord>;
  /** Add a record unless one with its key exists; true when it was added. */
  importRecord(record: MetaRecord): Promise<boolean>;

  /** Take the named lease for ttlMs unless another holder has it unexpired; true when taken. */
  acquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
}
