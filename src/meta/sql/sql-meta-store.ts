// MetaStore on kysely. The queries are plain enough to run unchanged on SQLite and PostgreSQL;
// only the connection (dialect) differs, see sqlite.ts, and the one-of-a-list reads (readByIds).
import { Migrator, sql, type Compilable, type RawBuilder, type Insertable, type Kysely, type Selectable } from 'kysely';
import { boundedCache } from '../../primitives/bounded-cache.ts';
import type {
  MetaRecord,
  AppKeyring,
  AppRecord,
  ClaimResult,
  CompletedUpload,
  DerivativeRecord,
  FileKind,
  FileRecord,
  FileStatus,
  GroupRecord,
  MemberRole,
  MetaStore,
  AuditEntry,
  ChangeOutcome,
  FileRef,
  GroupSettings,
  MemberEntry,
  MembershipAnswer,
  MembershipChange,
  MembershipFacts,
  RecordedEvent,
  RefDeletion,
  RefState,
  ReplaceResult,
  SharedFileRecord,
  UsageDay,
  UsageKind,
  UsageRow,
} from '../meta-store.ts';
import { AlreadyExistsError, LIFECYCLE_TABLES, type LifecycleTable } from '../meta-store.ts';
import type { AuditLogTable, Database, DerivativesTable, FileRefsTable, FilesTable, SharedFilesTable } from './schema.ts';
import { applyChanges, makeOwner, MEMBER_BATCH, memberRows, setMember } from './membership-sql.ts';
import { migrationProvider } from './migrations.ts';
import { preparedRead } from './prepared-read.ts';
import { TurnBatch } from '../../primitives/turn-batch.ts';
import { classifyDatabaseError } from '../db-errors.ts';

const num = (v: number | string) => Number(v);

type LifecycleRow = Record<string, string | number | null>;
/** ready file records kept per node (a record is well under 1 KiB) */
const READY_CACHE_SIZE = 20_000;
const numOrNull = (v: number | string | null) => (v === null ? null : Number(v));

function toFile(row: Selectable<FilesTable>): FileRecord {
  return {
    id: row.id,
    appId: row.app_id,
    kind: row.kind as FileKind,
    fileType: row.file_type,
    ownerId: row.owner_id,
    toId: row.to_id,
    toType: row.to_type === 1 || row.to_type === 2 ? row.to_type : null,
    slotId: row.slot_id,
    slotExpiresAt: num(row.slot_expires_at),
    status: row.status as FileStatus,
    storageKey: row.storage_key,
    size: numOrNull(row.size),
    sha256: row.sha256,
    contentType: row.content_type,
    fileName: row.file_name,
    createdAt: num(row.created_at),
    completedAt: numOrNull(row.completed_at),
    width: row.width ?? null,
    height: row.height ?? null,
    durationMs: numOrNull(row.duration_ms ?? null),
  };
}

function toDerivative(row: Selectable<DerivativesTable>): DerivativeRecord {
  return {
    fileId: row.file_id,
    variant: row.variant,
    storageKey: row.storage_key,
    size: num(row.size),
    sha256: row.sha256,
    contentType: row.content_type,
    createdAt: num(row.created_at),
  };
}

function fileRow(f: FileRecord): Insertable<FilesTable> {
  return {
    id: f.id,
    app_id: f.appId,
    kind: f.kind,
    file_type: f.fileType,
    owner_id: f.ownerId,
    to_id: f.toId,
    to_type: f.toType,
    slot_id: f.slotId,
    slot_expires_at: f.slotExpiresAt,
    status: f.status,
    storage_key: f.storageKey,
    size: f.size,
    sha256: f.sha256,
    content_type: f.contentType,
    file_name: f.fileName,
    created_at: f.createdAt,
    completed_at: f.completedAt,
    claimed_at: null,
    width: f.width ?? null,
    height: f.height ?? null,
    duration_ms: f.durationMs ?? null,
  };
}

function toRef(row: Selectable<FileRefsTable>): FileRef {
  return {
    id: row.id,
    appId: row.app_id,
    fileId: row.file_id,
    fromId: row.from_id,
    toId: row.to_id,
    toType: row.to_type === 1 || row.to_type === 2 ? row.to_type : null,
    fileType: row.file_type,
    state: row.state as RefState,
    createdAt: num(row.created_at),
    deletedAt: numOrNull(row.deleted_at),
  };
}

function refRow(r: FileRef): Insertable<FileRefsTable> {
  return {
    id: r.id,
    app_id: r.appId,
    file_id: r.fileId,
    from_id: r.fromId,
    to_id: r.toId,
    to_type: r.toType,
    file_type: r.fileType,
    state: r.state,
    created_at: r.createdAt,
    deleted_at: r.deletedAt,
  };
}

/** A file's original reference: the download_url its slot handed out. */
function originalRef(f: FileRecord): FileRef {
  return {
    id: f.id,
    appId: f.appId,
    fileId: f.id,
    fromId: f.ownerId,
    toId: f.toId,
    toType: f.toType,
    fileType: f.fileType,
    state: 'live',
    createdAt: f.createdAt,
    deletedAt: null,
  };
}

function toShared(row: Selectable<SharedFilesTable>): SharedFileRecord {
  return {
    fileId: num(row.file_id),
    appId: row.app_id,
    groupId: row.group_id,
    refId: row.ref_id,
    url: row.url,
    name: row.name,
    size: num(row.size),
    type: row.type,
    uploader: row.uploader,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function toAudit(row: Selectable<AuditLogTable>): AuditEntry {
  return { id: row.id, appId: row.app_id, at: num(row.at), actor: row.actor, action: row.action, target: row.target, detail: row.detail };
}

async function insertFile(db: Kysely<Database>, f: FileRecord) {
  await db.insertInto('files').values(fileRow(f)).execute();
  await db.insertInto('file_refs').values(refRow(originalRef(f))).execute();
}

async function completeRow(db: Kysely<Database>, id: string, done: CompletedUpload, now: number): Promise<FileRecord> {
  const row = await db
    .updateTable('files')
    .set({
      status: 'ready',
      size: done.size,
      sha256: done.sha256,
      content_type: done.contentType,
      file_name: done.fileName,
      completed_at: now,
      width: done.width ?? null,
      height: done.height ?? null,
      duration_ms: done.durationMs ?? null,
    })
    .where('id', '=', id)
    .where('status', '=', 'uploading')
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new Error(`file ${id} was not uploading when its upload completed`);
  return toFile(row);
}

/** the most reads one batched query answers (a busy turn sends more than one) */
const HOT_BATCH_MAX = 64;
/** A batched read that failed is asked again id by id, unless the database itself failed. */
const notStorageFailure = (err: unknown) => classifyDatabaseError(err) === null;

export class SqlMetaStore implements MetaStore {
  /** the reference reads of one event-loop turn, which go out as one query (see getRef) */
  private readonly refBatch = new TurnBatch((ids: readonly string[]) => this.refsWithIds(ids), HOT_BATCH_MAX, notStorageFailure);
  /** the same for the file-state reads of blob URL downloads (see getFileState) */
  private readonly fileStateBatch = new TurnBatch(
    (keys: ReadonlyArray<readonly [string, string]>) => this.fileStates(keys),
    HOT_BATCH_MAX,
    notStorageFailure,
  );

  constructor(
    private readonly db: Kysely<Database>,
    /** which SQL the batched reads are written in (the rest is the same for both) */
    private readonly dialect: 'sqlite' | 'postgres',
    readonly sharedByNodes: boolean,
    private readonly onClose: () => Promise<void> = async () => {},
    /** throws when the database is not where it was opened (embedded: the file was moved or removed) */
    private readonly checkLocation: () => void = () => {},
  ) {}

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
  }

  async close(): Promise<void> {
    await this.db.destroy();
    await this.onClose();
  }

  async createApp(app: AppRecord): Promise<void> {
    const res = await this.db
      .insertInto('apps')
      .values({ app_id: app.appId, secret: app.secret, sign_key: app.signKey, created_at: app.createdAt })
      .onConflict((oc) => oc.column('app_id').doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0n) === 0) throw new AlreadyExistsError(`app ${app.appId} exists`);
  }

  async getApp(appId: string): Promise<AppRecord | null> {
    const row = await this.db.selectFrom('apps').selectAll().where('app_id', '=', appId).executeTakeFirst();
    return row ? { appId: row.app_id, secret: row.secret, signKey: row.sign_key, createdAt: num(row.created_at) } : null;
  }

  // --- operations: health ---
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
    this.checkLocation();
  }

  // --- operations: key rotation and token revocation ---

  async getAppKeyring(appId: string): Promise<AppKeyring | null> {
    const row = await this.db.selectFrom('apps').selectAll().where('app_id', '=', appId).executeTakeFirst();
    if (!row) return null;
    const [retired, revocations, slotRevocations] = await Promise.all([
      this.db.selectFrom('app_sign_keys').select(['sign_key', 'retired_at']).where('app_id', '=', appId).orderBy('retired_at', 'desc').execute(),
      this.db.selectFrom('token_revocations').select(['user_id', 'revoked_before']).where('app_id', '=', appId).execute(),
      this.db.selectFrom('slot_revocations').select(['user_id', 'revoked_before']).where('app_id', '=', appId).execute(),
    ]);
    return {
      app: { appId: row.app_id, secret: row.secret, signKey: row.sign_key, createdAt: num(row.created_at) },
      version: num(row.keys_version),
      previousSecret:
        row.previous_secret !== null && row.previous_secret_until !== null ? { secret: row.previous_secret, until: num(row.previous_secret_until) } : null,
      retiredSignKeys: retired.map((r) => ({ signKey: r.sign_key, retiredAt: num(r.retired_at) })),
      revocations: revocations.map((r) => ({ userId: r.user_id, before: num(r.revoked_before) })),
      slotRevocations: slotRevocations.map((r) => ({ userId: r.user_id, before: num(r.revoked_before) })),
    };
  }

  async getAppKeysVersion(appId: string): Promise<number | null> {
    const row = await this.db.selectFrom('apps').select('keys_version').where('app_id', '=', appId).executeTakeFirst();
    return row ? num(row.keys_version) : null;
  }

  async rotateAppKeys(appId: string, next: { secret: string; signKey: string }, previousSecretUntil: number, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('apps').select(['secret', 'sign_key', 'keys_version']).where('app_id', '=', appId).executeTakeFirst();
      if (!row) return false;
      await tx
        .insertInto('app_sign_keys')
        .values({ app_id: appId, sign_key: row.sign_key, retired_at: now })
        .onConflict((oc) => oc.columns(['app_id', 'sign_key']).doNothing())
        .execute();
      // Compare-and-set on the version: two rotations at once on two nodes cannot both keep
      // "their" previous secret; the loser fails instead of silently dropping a key.
      const res = await tx
        .updateTable('apps')
        .set({
          secret: next.secret,
          sign_key: next.signKey,
          previous_secret: row.secret,
          previous_secret_until: previousSecretUntil,
          keys_version: num(row.keys_version) + 1,
        })
        .where('app_id', '=', appId)
        .where('keys_version', '=', row.keys_version)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw new Error(`app ${appId}: its keys changed during the rotation; rotate again`);
      return true;
    });
  }

  revokeTokens(appId: string, userId: string, before: number): Promise<boolean> {
    return this.revokeUntil('token_revocations', appId, userId, before);
  }

  revokeSlots(appId: string, userId: string, before: number): Promise<boolean> {
    return this.revokeUntil('slot_revocations', appId, userId, before);
  }

  /** One revocation moved forward (never back), and the app's keys_version with it, in one step. */
  private async revokeUntil(table: 'token_revocations' | 'slot_revocations', appId: string, userId: string, before: number): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const bumped = await tx
        .updateTable('apps')
        .set({ keys_version: sql<number>`keys_version + 1` })
        .where('app_id', '=', appId)
        .executeTakeFirst();
      if (Number(bumped.numUpdatedRows) !== 1) return false;
      await upsertRevocation(tx, table, appId, userId, before);
      return true;
    });
  }

  // ── console lists: keyset paging (no OFFSET), so a page costs the same wherever it starts.
  async listApps(opts: { after?: string; limit: number }): Promise<AppRecord[]> {
    let q = this.db.selectFrom('apps').selectAll().orderBy('app_id').limit(opts.limit);
    if (opts.after !== undefined) q = q.where('app_id', '>', opts.after);
    const rows = await q.execute();
    return rows.map((row) => ({ appId: row.app_id, secret: row.secret, signKey: row.sign_key, createdAt: num(row.created_at) }));
  }

  async listGroups(appId: string, opts: { after?: string; limit: number; ownerId?: string }): Promise<GroupRecord[]> {
    // group ids are canonical decimal strings: ordering by (length, text) is numeric order on
    // both SQLite and PostgreSQL, without casting to a number type either might lack (int64).
    const len = sql<number>`length(group_id)`;
    let q = this.db
      .selectFrom('groups')
      .select(['app_id', 'group_id', 'owner_id'])
      .where('app_id', '=', appId)
      // a dissolved group is gone for the operator too (getGroup agrees)
      .where('dismissed_at', 'is', null)
      .orderBy(len)
      .orderBy('group_id')
      .limit(opts.limit);
    const after = opts.after;
    if (after !== undefined) {
      q = q.where((eb) => eb.or([eb(len, '>', after.length), eb.and([eb(len, '=', after.length), eb('group_id', '>', after)])]));
    }
    if (opts.ownerId !== undefined) q = q.where('owner_id', '=', opts.ownerId);
    const rows = await q.execute();
    return rows.map((row) => ({ appId: row.app_id, groupId: row.group_id, ownerId: row.owner_id }));
  }
  // ── end of console lists

  async putGroup(group: GroupRecord): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('groups')
        .values({ app_id: group.appId, group_id: group.groupId, owner_id: group.ownerId, created_at: Date.now() })
        .onConflict((oc) => oc.columns(['app_id', 'group_id']).doUpdateSet({ owner_id: group.ownerId, dismissed_at: null }))
        .execute();
      // A group has one owner: a previous owner stays in the group as a plain member.
      await tx
        .updateTable('group_members')
        .set({ role: 'member' })
        .where('app_id', '=', group.appId)
        .where('group_id', '=', group.groupId)
        .where('role', '=', 'owner')
        .where('user_id', '!=', group.ownerId)
        .execute();
      await tx
        .insertInto('group_members')
        .values({ app_id: group.appId, group_id: group.groupId, user_id: group.ownerId, role: 'owner' })
        .onConflict((oc) => oc.columns(['app_id', 'group_id', 'user_id']).doUpdateSet({ role: 'owner' }))
        .execute();
    });
  }

  async getGroup(appId: string, groupId: string): Promise<GroupRecord | null> {
    const row = await this.db
      .selectFrom('groups')
      .select(['app_id', 'group_id', 'owner_id'])
      .where('app_id', '=', appId)
      .where('group_id', '=', groupId)
      .where('dismissed_at', 'is', null)
      .executeTakeFirst();
    return row ? { appId: row.app_id, groupId: row.group_id, ownerId: row.owner_id } : null;
  }

  async putMember(appId: string, groupId: string, userId: string, role: MemberRole): Promise<void> {
    // The one-member admin call: the same write as a pushed member, without a join time.
    await this.db.transaction().execute((tx) => setMember(tx, appId, groupId, userId, role, null));
  }


  async removeMember(appId: string, groupId: string, userId: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('group_members')
      .where('app_id', '=', appId)
      .where('group_id', '=', groupId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async getMemberRole(appId: string, groupId: string, userId: string): Promise<MemberRole | null> {
    const row = await this.db
      .selectFrom('group_members')
      .select('role')
      .where('app_id', '=', appId)
      .where('group_id', '=', groupId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row ? (row.role as MemberRole) : null;
  }

  // ── membership (issue 9): queries in membership-sql.ts ──

  async getMembership(appId: string, groupId: string, userId: string): Promise<MembershipFacts> {
    const [g, m, a] = await Promise.all([
      this.db
        .selectFrom('groups')
        .select(['owner_id', 'version', 'history_visible', 'dismissed_at'])
        .where('app_id', '=', appId)
        .where('group_id', '=', groupId)
        .executeTakeFirst(),
      this.db
        .selectFrom('group_members')
        .select(['role', 'joined_at'])
        .where('app_id', '=', appId)
        .where('group_id', '=', groupId)
        .where('user_id', '=', userId)
        .executeTakeFirst(),
      this.db
        .selectFrom('membership_answers')
        .select(['member', 'role', 'joined_at', 'asked_at'])
        .where('app_id', '=', appId)
        .where('group_id', '=', groupId)
        .where('user_id', '=', userId)
        .executeTakeFirst(),
    ]);
    const dismissed = g !== undefined && g.dismissed_at !== null;
    const live = dismissed ? undefined : g;
    return {
      dismissed,
      group: live ? { ownerId: live.owner_id, version: numOrNull(live.version), historyVisible: Number(live.history_visible) !== 0 } : null,
      member: live && m ? { role: m.role as MemberRole, joinedAt: numOrNull(m.joined_at) } : null,
      answer: a
        ? { member: Number(a.member) !== 0, role: (a.role as MemberRole | null) ?? null, joinedAt: numOrNull(a.joined_at), askedAt: num(a.asked_at) }
        : null,
    };
  }

  async replaceMembers(appId: string, groupId: string, members: MemberEntry[], opts: { version?: number; now: number }): Promise<ReplaceResult> {
    const owner = members.find((m) => m.role === 'owner')?.userId ?? '';
    return this.db.transaction().execute(async (tx) => {
      const existing = await tx
        .selectFrom('groups')
        .select(['version', 'dismissed_at'])
        .where('app_id', '=', appId)
        .where('group_id', '=', groupId)
        .executeTakeFirst();
      const stored = existing ? numOrNull(existing.version) : null;
      if (opts.version !== undefined && stored !== null && opts.version <= stored) return { applied: false, version: stored };
      const version = opts.version ?? stored;
      await tx
        .insertInto('groups')
        .values({ app_id: appId, group_id: groupId, owner_id: owner, created_at: opts.now, version })
        .onConflict((oc) => oc.columns(['app_id', 'group_id']).doUpdateSet({ owner_id: owner, version, dismissed_at: null }))
        .execute();
      await tx.deleteFrom('group_members').where('app_id', '=', appId).where('group_id', '=', groupId).execute();
      await tx.deleteFrom('membership_answers').where('app_id', '=', appId).where('group_id', '=', groupId).execute();
      for (let i = 0; i < members.length; i += MEMBER_BATCH) {
        await tx.insertInto('group_members').values(memberRows(appId, groupId, members.slice(i, i + MEMBER_BATCH))).execute();
      }
      return { applied: true, version, count: members.length };
    });
  }

  async addMembers(appId: string, groupId: string, members: MemberEntry[], now: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('groups')
        .values({ app_id: appId, group_id: groupId, owner_id: members.find((m) => m.role === 'owner')?.userId ?? '', created_at: now })
        .onConflict((oc) => oc.columns(['app_id', 'group_id']).doUpdateSet({ dismissed_at: null }))
        .execute();
      const owner = members.find((m) => m.role === 'owner');
      if (owner) await makeOwner(tx, appId, groupId, owner.userId);
      for (let i = 0; i < members.length; i += MEMBER_BATCH) {
        await tx
          .insertInto('group_members')
          .values(memberRows(appId, groupId, members.slice(i, i + MEMBER_BATCH)))
          .onConflict((oc) =>
            oc.columns(['app_id', 'group_id', 'user_id']).doUpdateSet((eb) => ({ role: eb.ref('excluded.role'), joined_at: eb.ref('excluded.joined_at') })),
          )
          .execute();
      }
    });
  }

  async listMembers(appId: string, groupId: string): Promise<(GroupSettings & { members: MemberEntry[] }) | null> {
    const g = await this.db
      .selectFrom('groups')
      .select(['owner_id', 'version', 'history_visible'])
      .where('app_id', '=', appId)
      .where('group_id', '=', groupId)
      .where('dismissed_at', 'is', null)
      .executeTakeFirst();
    if (!g) return null;
    const rows = await this.db
      .selectFrom('group_members')
      .select(['user_id', 'role', 'joined_at'])
      .where('app_id', '=', appId)
      .where('group_id', '=', groupId)
      .orderBy('user_id')
      .execute();
    return {
      ownerId: g.owner_id,
      version: numOrNull(g.version),
      historyVisible: Number(g.history_visible) !== 0,
      members: rows.map((r) => ({ userId: r.user_id, role: r.role as MemberRole, joinedAt: numOrNull(r.joined_at) })),
    };
  }

  async dismissGroup(appId: string, groupId: string, at: number): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const res = await tx
        .updateTable('groups')
        .set({ dismissed_at: at })
        .where('app_id', '=', appId)
        .where('group_id', '=', groupId)
        .where('dismissed_at', 'is', null)
        .executeTakeFirst();
      await tx.deleteFrom('group_members').where('app_id', '=', appId).where('group_id', '=', groupId).execute();
      await tx.deleteFrom('membership_answers').where('app_id', '=', appId).where('group_id', '=', groupId).execute();
      return Number(res.numUpdatedRows) > 0;
    });
  }

  async setHistoryVisible(appId: string, groupId: string, visible: boolean): Promise<boolean> {
    const res = await this.db
      .updateTable('groups')
      .set({ history_visible: visible ? 1 : 0 })
      .where('app_id', '=', appId)
      .where('group_id', '=', groupId)
      .where('dismissed_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async applyMembershipChanges(appId: string, changes: MembershipChange[], now: number): Promise<ChangeOutcome[]> {
    return this.db.transaction().execute((tx) => applyChanges(tx, appId, changes, now));
  }

  async putMembershipAnswer(appId: string, groupId: string, userId: string, a: MembershipAnswer): Promise<void> {
    const values = { member: a.member ? 1 : 0, role: a.role, joined_at: a.joinedAt, asked_at: a.askedAt };
    await this.db
      .insertInto('membership_answers')
      .values({ app_id: appId, group_id: groupId, user_id: userId, ...values })
      .onConflict((oc) => oc.columns(['app_id', 'group_id', 'user_id']).doUpdateSet(values))
      .execute();
  }

  async getMembershipUrl(appId: string): Promise<string | null> {
    const row = await this.db.selectFrom('membership_settings').select('membership_url').where('app_id', '=', appId).executeTakeFirst();
    return row?.membership_url ?? null;
  }

  async setMembershipUrl(appId: string, url: string | null): Promise<void> {
    await this.db
      .insertInto('membership_settings')
      .values({ app_id: appId, membership_url: url })
      .onConflict((oc) => oc.column('app_id').doUpdateSet({ membership_url: url }))
      .execute();
  }

  async listRecordedEvents(appId: string, limit: number): Promise<RecordedEvent[]> {
    const rows = await this.db
      .selectFrom('recorded_events')
      .select(['type', 'payload', 'at', 'received_at'])
      .where('app_id', '=', appId)
      .orderBy('received_at')
      .orderBy('at')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ type: r.type, payload: r.payload, at: num(r.at), receivedAt: num(r.received_at) }));
  }

  /**
   * Slot records are written in groups: every createFile that arrives in the same turn of the
   * event loop joins one transaction, so a burst of slot requests pays for one commit instead of
   * one each (the commit, not the row, is what costs).
   */
  private pendingFiles: Array<{ file: FileRecord; done: (err?: unknown) => void }> = [];

  createFile(file: FileRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingFiles.push({ file, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (this.pendingFiles.length === 1) setImmediate(() => void this.flushFiles());
    });
  }

  private async flushFiles(): Promise<void> {
    const batch = this.pendingFiles;
    this.pendingFiles = [];
    if (batch.length > 1) {
      try {
        await this.db.transaction().execute(async (tx) => {
          for (const { file } of batch) await insertFile(tx, file);
        });
        for (const b of batch) b.done();
        return;
      } catch (err) {
        // A busy, full or unreachable database fails every row alike: trying them one by one
        // would only repeat the failure (and, on SQLite, each try runs on the event loop).
        if (classifyDatabaseError(err)) {
          for (const b of batch) b.done(err);
          return;
        }
        // One bad row must not fail the others: fall through and insert one by one.
      }
    }
    for (const b of batch) {
      try {
        await insertFile(this.db, b.file);
        b.done();
      } catch (err) {
        b.done(err ?? new Error('insert failed'));
      }
    }
  }

  /**
   * Ready records never change again (bytes are immutable and nothing edits a finished record),
   * so every node may keep them: downloads, the hot path, then skip the database entirely.
   * Only finished records are cached; a pending one must be read again to see it complete.
   * Whoever starts deleting ready files must also evict them here (and on other nodes).
   */
  private readonly readyFiles = boundedCache<string, FileRecord>(READY_CACHE_SIZE);

  private readonly fileById = preparedRead(() => this.db, 2, (id: string, appId: string) =>
    this.db.selectFrom('files').selectAll().where('id', '=', id).where('app_id', '=', appId),
  );

  async getFile(appId: string, id: string): Promise<FileRecord | null> {
    const hit = this.readyFiles.get(id);
    if (hit) return hit.appId === appId ? hit : null;
    const [row] = await this.fileById(id, appId);
    const file = row ? toFile(row) : null;
    if (file?.status === 'ready') this.readyFiles.set(id, file);
    return file;
  }

  async claimSlot(slotId: string, now: number, staleBefore: number, opts: { ignoreExpiry?: boolean } = {}): Promise<ClaimResult> {
    const claimed = await this.db
      .updateTable('files')
      .set({ status: 'uploading', claimed_at: now })
      .where('slot_id', '=', slotId)
      .where('slot_expires_at', '>', opts.ignoreExpiry ? 0 : now)
      .where((eb) =>
        eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'uploading'), eb('claimed_at', '<', staleBefore)])]),
      )
      .returningAll()
      .executeTakeFirst();
    if (claimed) return { ok: true, file: toFile(claimed) };
    const row = await this.db.selectFrom('files').select(['status', 'slot_expires_at']).where('slot_id', '=', slotId).executeTakeFirst();
    if (!row) return { ok: false, reason: 'not-found' };
    if (row.status === 'ready') return { ok: false, reason: 'used' };
    // An upload that is running makes the slot busy; with ignoreExpiry even past the slot's expiry.
    if (row.status === 'uploading' && (opts.ignoreExpiry || num(row.slot_expires_at) > now)) return { ok: false, reason: 'busy' };
    return { ok: false, reason: 'expired' };
  }

  async touchClaim(id: string, now: number): Promise<void> {
    await this.db.updateTable('files').set({ claimed_at: now }).where('id', '=', id).where('status', '=', 'uploading').execute();
  }

  async releaseClaims(before: number): Promise<number> {
    const res = await this.db
      .updateTable('files')
      .set({ status: 'pending' })
      .where('status', '=', 'uploading')
      .where('claimed_at', '<', before)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  async releaseSlot(id: string): Promise<void> {
    await this.db.updateTable('files').set({ status: 'pending' }).where('id', '=', id).where('status', '=', 'uploading').execute();
  }

  async completeUpload(id: string, done: CompletedUpload, now: number): Promise<FileRecord> {
    return this.db.transaction().execute(async (tx) => {
      const file = await completeRow(tx, id, done, now);
      // A capability slot's record was written by its claim, without the reference.
      await tx.insertInto('file_refs').values(refRow(originalRef(file))).onConflict((oc) => oc.doNothing()).execute();
      // Its URL was deleted while the bytes were on their way: they go at once.
      const own = await tx.selectFrom('file_refs').select('state').where('id', '=', file.id).executeTakeFirst();
      if (own?.state !== 'deleted') return file;
      const purging = await tx.updateTable('files').set({ status: 'purging' }).where('id', '=', file.id).returningAll().executeTakeFirstOrThrow();
      return toFile(purging);
    });
  }

  async listExpiredSlots(now: number, staleBefore: number, limit: number): Promise<FileRecord[]> {
    const rows = await this.db
      .selectFrom('files')
      .selectAll()
      .where('slot_expires_at', '<=', now)
      .where((eb) =>
        eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'uploading'), eb('claimed_at', '<', staleBefore)])]),
      )
      .limit(limit)
      .execute();
    return rows.map(toFile);
  }

  async deleteFile(id: string): Promise<void> {
    this.readyFiles.delete(id);
    await this.db.deleteFrom('files').where('id', '=', id).where('status', '!=', 'ready').execute();
  }

  // ---- slot capabilities ----
  async claimCapability(file: FileRecord, now: number, staleBefore: number): Promise<ClaimResult> {
    // The primary key decides a race: one insert lands, the other does nothing.
    const inserted = await this.db
      .insertInto('files')
      .values({ ...fileRow(file), status: 'uploading', claimed_at: now })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { ok: true, file: toFile(inserted) };
    const taken = await this.db
      .updateTable('files')
      .set({ status: 'uploading', claimed_at: now })
      .where('id', '=', file.id)
      .where('app_id', '=', file.appId)
      .where((eb) => eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'uploading'), eb('claimed_at', '<', staleBefore)])]))
      .returningAll()
      .executeTakeFirst();
    if (taken) return { ok: true, file: toFile(taken) };
    const row = await this.db.selectFrom('files').select(['status']).where('id', '=', file.id).executeTakeFirst();
    if (!row) return { ok: false, reason: 'busy' }; // its claim was dropped a moment ago: try again
    return { ok: false, reason: row.status === 'uploading' ? 'busy' : 'used' };
  }

  async dropClaim(id: string): Promise<void> {
    await this.db.deleteFrom('files').where('id', '=', id).where('status', '=', 'uploading').execute();
  }

  async getDerivative(fileId: string, variant: string): Promise<DerivativeRecord | null> {
    const row = await this.db.selectFrom('derivatives').selectAll().where('file_id', '=', fileId).where('variant', '=', variant).executeTakeFirst();
    return row ? toDerivative(row) : null;
  }

  async putDerivative(d: DerivativeRecord): Promise<DerivativeRecord> {
    await this.db
      .insertInto('derivatives')
      .values({
        file_id: d.fileId,
        variant: d.variant,
        storage_key: d.storageKey,
        size: d.size,
        sha256: d.sha256,
        content_type: d.contentType,
        created_at: d.createdAt,
      })
      .onConflict((oc) => oc.columns(['file_id', 'variant']).doNothing())
      .execute();
    return (await this.getDerivative(d.fileId, d.variant)) ?? d;
  }

  // ---- usage history: bytes and files added and removed per app, UTC day and kind ----

  async addUsageDay(appId: string, e: UsageDay): Promise<void> {
    const values = { bytes_added: e.bytesAdded, files_added: e.filesAdded, bytes_removed: e.bytesRemoved, files_removed: e.filesRemoved };
    // One statement: two nodes counting the same day at once both land.
    await this.db
      .insertInto('usage_history')
      .values({ app_id: appId, day: e.day, kind: e.kind, ...values })
      .onConflict((oc) =>
        oc.columns(['app_id', 'day', 'kind']).doUpdateSet({
          bytes_added: sql`usage_history.bytes_added + ${e.bytesAdded}`,
          files_added: sql`usage_history.files_added + ${e.filesAdded}`,
          bytes_removed: sql`usage_history.bytes_removed + ${e.bytesRemoved}`,
          files_removed: sql`usage_history.files_removed + ${e.filesRemoved}`,
        }),
      )
      .execute();
  }

  async listUsageDays(appId: string, fromDay: string): Promise<UsageDay[]> {
    const rows = await this.db.selectFrom('usage_history').selectAll().where('app_id', '=', appId).where('day', '>=', fromDay).orderBy('day').orderBy('kind').execute();
    return rows
      .map((r) => ({
        day: r.day,
        kind: r.kind as UsageKind,
        bytesAdded: num(r.bytes_added),
        filesAdded: num(r.files_added),
        bytesRemoved: num(r.bytes_removed),
        filesRemoved: num(r.files_removed),
      }))
      .filter((d) => d.bytesAdded !== 0 || d.filesAdded !== 0 || d.bytesRemoved !== 0 || d.filesRemoved !== 0);
  }

  // ---- lifecycle: references, deletion, quarantine, usage, settings, shared files, audit ----

  async createRef(ref: FileRef): Promise<void> {
    await this.db.insertInto('file_refs').values(refRow(ref)).execute();
  }

  async tombstoneRef(ref: FileRef): Promise<boolean> {
    const res = await this.db
      .insertInto('file_refs')
      .values(refRow({ ...ref, state: 'deleted' }))
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async tombstoneUploadsOf(appId: string, ownerId: string, now: number): Promise<number> {
    const res = await this.db
      .insertInto('file_refs')
      .columns(['id', 'app_id', 'file_id', 'from_id', 'to_id', 'to_type', 'file_type', 'state', 'created_at', 'deleted_at'])
      .expression((eb) =>
        eb
          .selectFrom('files')
          .select(['id', 'app_id', 'id as file_id', 'owner_id', 'to_id', 'to_type', 'file_type'])
          // typed, or PostgreSQL takes the bound time for text
          .select([sql.lit('deleted').as('state'), sql<number>`cast(${now} as bigint)`.as('created_at'), sql<number>`cast(${now} as bigint)`.as('deleted_at')])
          .where('app_id', '=', appId)
          .where('owner_id', '=', ownerId)
          .where('status', 'in', ['pending', 'uploading']),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n);
  }

  /**
   * A read of the rows whose `column` is one of a list of ids, for the batched reads below. Both
   * dialects search the column's index once per id (no scan). PostgreSQL takes the list as an
   * array, SQLite as a JSON array (it has no array parameters).
   */
  private readByIds<Row>(column: 'id' | 'file_id', build: (oneOf: RawBuilder<boolean>) => Compilable<Row>): (ids: readonly string[]) => Promise<Row[]> {
    // Compiled at the first call (preparedRead is lazy), when the dialect is set.
    const read = preparedRead(() => this.db, 1, (list: string | readonly string[]) =>
      build(
        this.dialect === 'postgres'
          ? sql<boolean>`${sql.ref(column)} = any(${list}::text[])`
          : sql<boolean>`${sql.ref(column)} in (select value from json_each(${list}))`,
      ),
    );
    return (ids) => read(this.dialect === 'postgres' ? ids : JSON.stringify(ids));
  }

  private readonly refsByIds = this.readByIds('id', (oneOf) => this.db.selectFrom('file_refs').selectAll().where(oneOf));

  /** One query for every id asked in the turn, each row matched to its ids here. */
  private async refsWithIds(ids: readonly string[]): Promise<Array<Selectable<FileRefsTable> | undefined>> {
    const rows = await this.refsByIds([...new Set(ids)]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id));
  }

  // Read on every chat and avatar download, never cached. The downloads that reach it in the
  // same turn of the event loop share one query (primitives/turn-batch.ts), sent in the check
  // phase after every request of the turn was read, so none reads an older state than a query
  // of its own would have. Measured in alternating pairs: PostgreSQL (scale-out 302) 13.7k →
  // 32.7k req/s, where a round trip of its own cost a download more than all its other checks;
  // SQLite (16 KiB downloads, the embedded 302) about +23%, where each statement takes SQLite's
  // shared-memory read lock with two fcntl calls, and the answers of a turn leave together one
  // turn later.
  async getRef(appId: string, refId: string): Promise<FileRef | null> {
    const row = await this.refBatch.get(refId);
    return row && row.app_id === appId ? toRef(row) : null;
  }

  async listRefsOfFile(fileId: string): Promise<FileRef[]> {
    const rows = await this.db.selectFrom('file_refs').selectAll().where('file_id', '=', fileId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toRef);
  }

  // Read on every blob URL download, as getRef is on every chat download, and batched the same
  // way (fileStateBatch). min() rather than ORDER BY … LIMIT ?: SQLite compiles a statement with
  // a bound LIMIT again on every run (its sorter is sized by it), which cost twice the lookup.
  private readonly fileStatesOf = this.readByIds('file_id', (oneOf) =>
    this.db
      .selectFrom('file_refs')
      .select((eb) => ['file_id', 'app_id', eb.fn.min('state').as('state')]) // 'live' before 'quarantined'
      .where(oneOf)
      .where('state', '!=', 'deleted')
      .groupBy(['file_id', 'app_id']),
  );

  /** the state of each [appId, fileId]: 'deleted' when no reference of it is left */
  private async fileStates(keys: ReadonlyArray<readonly [string, string]>): Promise<RefState[]> {
    const rows = await this.fileStatesOf([...new Set(keys.map(([, fileId]) => fileId))]);
    const byKey = new Map(rows.map((r) => [`${r.app_id}\n${r.file_id}`, r.state as RefState]));
    return keys.map(([appId, fileId]) => byKey.get(`${appId}\n${fileId}`) ?? 'deleted');
  }

  async getFileState(appId: string, fileId: string): Promise<RefState> {
    return this.fileStateBatch.get([appId, fileId]);
  }

  async listRefsBy(appId: string, by: { fromId: string } | { toType: 1 | 2; toId: string }, after: string, limit: number): Promise<FileRef[]> {
    let q = this.db.selectFrom('file_refs').selectAll().where('app_id', '=', appId).where('state', '!=', 'deleted').where('id', '>', after);
    q = 'fromId' in by ? q.where('from_id', '=', by.fromId) : q.where('to_type', '=', by.toType).where('to_id', '=', by.toId);
    return (await q.orderBy('id').limit(limit).execute()).map(toRef);
  }

  async deleteRef(appId: string, refId: string, now: number): Promise<RefDeletion | null> {
    const out = await this.db.transaction().execute(async (tx) => {
      const marked = await tx
        .updateTable('file_refs')
        .set({ state: 'deleted', deleted_at: now })
        .where('id', '=', refId)
        .where('app_id', '=', appId)
        .where('state', '!=', 'deleted')
        .returningAll()
        .executeTakeFirst();
      if (!marked) {
        const row = await tx.selectFrom('file_refs').selectAll().where('id', '=', refId).where('app_id', '=', appId).executeTakeFirst();
        return row ? { ref: toRef(row), already: true, purge: null } : null;
      }
      // A group's shared-file entry is that URL: it goes with it.
      await tx.deleteFrom('shared_files').where('app_id', '=', appId).where('ref_id', '=', refId).execute();
      const left = await tx
        .selectFrom('file_refs')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('file_id', '=', marked.file_id)
        .where('state', '!=', 'deleted')
        .executeTakeFirstOrThrow();
      let purge: FileRecord | null = null;
      if (Number(left.n) === 0) {
        const row = await tx
          .updateTable('files')
          .set({ status: 'purging' })
          .where('id', '=', marked.file_id)
          .where('status', 'not in', ['purging', 'deleted'])
          .returningAll()
          .executeTakeFirst();
        purge = row ? toFile(row) : null;
      }
      return { ref: toRef(marked), already: false, purge };
    });
    if (out?.purge) this.readyFiles.delete(out.purge.id);
    return out;
  }

  async listDerivatives(fileId: string): Promise<DerivativeRecord[]> {
    return (await this.db.selectFrom('derivatives').selectAll().where('file_id', '=', fileId).orderBy('variant').execute()).map(toDerivative);
  }

  async finishPurge(fileId: string): Promise<boolean> {
    this.readyFiles.delete(fileId);
    return this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('derivatives').where('file_id', '=', fileId).execute();
      const res = await tx.updateTable('files').set({ status: 'deleted' }).where('id', '=', fileId).where('status', '=', 'purging').executeTakeFirst();
      return Number(res.numUpdatedRows) > 0;
    });
  }

  async listPurging(limit: number): Promise<FileRecord[]> {
    return (await this.db.selectFrom('files').selectAll().where('status', '=', 'purging').limit(limit).execute()).map(toFile);
  }

  async quarantine(appId: string, sha256: string, reason: string, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const res = await tx
        .insertInto('quarantine')
        .values({ app_id: appId, sha256, reason, created_at: now })
        .onConflict((oc) => oc.columns(['app_id', 'sha256']).doNothing())
        .executeTakeFirst();
      await tx
        .updateTable('file_refs')
        .set({ state: 'quarantined' })
        .where('state', '=', 'live')
        .where('file_id', 'in', (eb) => eb.selectFrom('files').select('id').where('app_id', '=', appId).where('sha256', '=', sha256))
        .execute();
      return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
    });
  }

  async release(appId: string, sha256: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const res = await tx.deleteFrom('quarantine').where('app_id', '=', appId).where('sha256', '=', sha256).executeTakeFirst();
      await tx
        .updateTable('file_refs')
        .set({ state: 'live' })
        .where('state', '=', 'quarantined')
        .where('file_id', 'in', (eb) => eb.selectFrom('files').select('id').where('app_id', '=', appId).where('sha256', '=', sha256))
        .execute();
      return Number(res.numDeletedRows) > 0;
    });
  }

  async getQuarantine(appId: string, sha256: string): Promise<{ reason: string; createdAt: number } | null> {
    const row = await this.db.selectFrom('quarantine').select(['reason', 'created_at']).where('app_id', '=', appId).where('sha256', '=', sha256).executeTakeFirst();
    return row ? { reason: row.reason, createdAt: num(row.created_at) } : null;
  }

  async addUsage(appId: string, userId: string, kind: UsageKind, bytes: number, files: number, day: string | null): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      for (const who of [userId, '*']) {
        await tx
          .insertInto('usage')
          .values({ app_id: appId, user_id: who, kind, bytes, files })
          .onConflict((oc) =>
            oc.columns(['app_id', 'user_id', 'kind']).doUpdateSet({
              bytes: sql`usage.bytes + ${bytes}`,
              files: sql`usage.files + ${files}`,
            }),
          )
          .execute();
      }
      if (day !== null) {
        await tx
          .insertInto('usage_daily')
          .values({ app_id: appId, user_id: userId, day, bytes })
          .onConflict((oc) => oc.columns(['app_id', 'user_id', 'day']).doUpdateSet({ bytes: sql`usage_daily.bytes + ${bytes}` }))
          .execute();
      }
    });
  }

  async getUsage(appId: string, userId?: string): Promise<UsageRow[]> {
    let q = this.db.selectFrom('usage').selectAll().where('app_id', '=', appId);
    if (userId !== undefined) q = q.where('user_id', '=', userId);
    const rows = await q.orderBy('user_id').orderBy('kind').execute();
    return rows.map((r) => ({ userId: r.user_id, kind: r.kind as UsageKind, bytes: num(r.bytes), files: num(r.files) }));
  }

  async getDailyBytes(appId: string, userId: string, day: string): Promise<number> {
    const row = await this.db.selectFrom('usage_daily').select('bytes').where('app_id', '=', appId).where('user_id', '=', userId).where('day', '=', day).executeTakeFirst();
    return row ? num(row.bytes) : 0;
  }

  async getAppSettings(appId: string): Promise<string | null> {
    const row = await this.db.selectFrom('app_settings').select('settings').where('app_id', '=', appId).executeTakeFirst();
    return row?.settings ?? null;
  }

  async putAppSettings(appId: string, json: string): Promise<void> {
    await this.db
      .insertInto('app_settings')
      .values({ app_id: appId, settings: json })
      .onConflict((oc) => oc.column('app_id').doUpdateSet({ settings: json }))
      .execute();
  }

  async listAppSettings(): Promise<Array<{ appId: string; json: string }>> {
    return (await this.db.selectFrom('app_settings').selectAll().orderBy('app_id').execute()).map((r) => ({ appId: r.app_id, json: r.settings }));
  }

  async createSharedFile(f: SharedFileRecord): Promise<void> {
    const res = await this.db
      .insertInto('shared_files')
      .values({
        file_id: f.fileId,
        app_id: f.appId,
        group_id: f.groupId,
        ref_id: f.refId,
        url: f.url,
        name: f.name,
        size: f.size,
        type: f.type,
        uploader: f.uploader,
        created_at: f.createdAt,
        updated_at: f.updatedAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0n) === 0) throw new AlreadyExistsError(`shared file ${f.refId} exists`);
  }

  async getSharedFile(appId: string, fileId: number): Promise<SharedFileRecord | null> {
    const row = await this.db.selectFrom('shared_files').selectAll().where('file_id', '=', fileId).where('app_id', '=', appId).executeTakeFirst();
    return row ? toShared(row) : null;
  }

  async listSharedFiles(appId: string, groupId: string): Promise<SharedFileRecord[]> {
    const rows = await this.db.selectFrom('shared_files').selectAll().where('app_id', '=', appId).where('group_id', '=', groupId).orderBy('created_at').orderBy('file_id').execute();
    return rows.map(toShared);
  }

  async renameSharedFile(appId: string, fileId: number, name: string, now: number): Promise<boolean> {
    const res = await this.db.updateTable('shared_files').set({ name, updated_at: now }).where('file_id', '=', fileId).where('app_id', '=', appId).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async deleteSharedFile(appId: string, fileId: number): Promise<boolean> {
    const res = await this.db.deleteFrom('shared_files').where('file_id', '=', fileId).where('app_id', '=', appId).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({ id: e.id, app_id: e.appId, at: e.at, actor: e.actor, action: e.action, target: e.target, detail: e.detail })
      .execute();
  }

  async listAudit(appId: string, before: string | null, limit: number): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit_log').selectAll().where('app_id', '=', appId);
    if (before !== null) q = q.where('id', '<', before);
    return (await q.orderBy('id', 'desc').limit(limit).execute()).map(toAudit);
  }

  async listFilesCompletedBefore(appId: string, which: { fileTypes: number[] } | { avatars: true }, before: number, limit: number): Promise<FileRecord[]> {
    let q = this.db
      .selectFrom('files')
      .selectAll()
      .where('app_id', '=', appId)
      .where('status', '=', 'ready')
      .where('completed_at', '<', before)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('quarantine').select('quarantine.app_id').whereRef('quarantine.app_id', '=', 'files.app_id').whereRef('quarantine.sha256', '=', 'files.sha256'))),
      );
    q = 'avatars' in which ? q.where('kind', '!=', 'chat') : q.where('kind', '=', 'chat').where('file_type', 'in', which.fileTypes.length ? which.fileTypes : [-1]);
    return (await q.orderBy('completed_at').limit(limit).execute()).map(toFile);
  }

  async listSupersededAvatars(before: number, limit: number): Promise<FileRecord[]> {
    // An avatar is superseded when its owner (the user, or the group for group avatars) has
    // two newer ready ones; counted as of `before`, so it goes a while after it was superseded
    // (profiles cached by clients still name it), not the moment two newer ones arrive.
    const res = await sql<Selectable<FilesTable>>`
      SELECT f.* FROM files f
      WHERE f.kind <> 'chat' AND f.status = 'ready' AND f.completed_at < ${before}
        AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.app_id = f.app_id AND q.sha256 = f.sha256)
        AND (SELECT COUNT(*) FROM files n
             WHERE n.app_id = f.app_id AND n.kind = f.kind AND n.status = 'ready' AND n.completed_at < ${before}
               AND ((f.kind = 'avatar-user' AND n.owner_id = f.owner_id) OR (f.kind = 'avatar-group' AND n.to_id = f.to_id))
               AND (n.completed_at > f.completed_at OR (n.completed_at = f.completed_at AND n.id > f.id))) >= 2
      ORDER BY f.completed_at
      LIMIT ${limit}`.execute(this.db);
    const rows = res.rows;
    return rows.map(toFile);
  }

  async *exportRecords(): AsyncIterable<MetaRecord> {
    const PAGE = 500;
    for (const row of await this.db.selectFrom('apps').selectAll().orderBy('app_id').execute()) {
      yield { kind: 'app', app: { appId: row.app_id, secret: row.secret, signKey: row.sign_key, createdAt: num(row.created_at) } };
      // Without its retired sign keys, every sign in the app's chat history would stop working.
      const keyring = await this.getAppKeyring(row.app_id);
      if (keyring && (keyring.previousSecret || keyring.retiredSignKeys.length > 0 || keyring.revocations.length > 0 || keyring.slotRevocations.length > 0)) {
        const { previousSecret, retiredSignKeys, revocations, slotRevocations } = keyring;
        yield { kind: 'keyring', keyring: { appId: row.app_id, previousSecret, retiredSignKeys, revocations, slotRevocations } };
      }
      const membershipUrl = await this.getMembershipUrl(row.app_id);
      if (membershipUrl) yield { kind: 'membership-url', appId: row.app_id, url: membershipUrl };
    }
    for await (const g of this.rowsByKey('groups', ['app_id', 'group_id'])) {
      yield { kind: 'group', group: { appId: g.app_id, groupId: g.group_id, ownerId: g.owner_id } };
      const state = { version: numOrNull(g.version), historyVisible: g.history_visible !== 0, dismissedAt: numOrNull(g.dismissed_at) };
      // A new group's state needs no record: most groups have never been pushed with a version.
      if (state.version !== null || !state.historyVisible || state.dismissedAt !== null) yield { kind: 'group-state', appId: g.app_id, groupId: g.group_id, ...state };
    }
    for await (const m of this.rowsByKey('group_members', ['app_id', 'group_id', 'user_id'])) {
      yield { kind: 'member', appId: m.app_id, groupId: m.group_id, userId: m.user_id, role: m.role as MemberRole, joinedAt: numOrNull(m.joined_at) };
    }
    for await (const c of this.rowsByKey('membership_clock', ['app_id', 'group_id', 'user_id'])) {
      yield { kind: 'membership-clock', appId: c.app_id, groupId: c.group_id, userId: c.user_id, at: num(c.at) };
    }
    for await (const e of this.rowsByKey('recorded_events', ['app_id', 'event_key'])) {
      yield { kind: 'recorded-event', appId: e.app_id, eventKey: e.event_key, event: { type: e.type, payload: e.payload, at: num(e.at), receivedAt: num(e.received_at) } };
    }
    for (let after = ''; ; ) {
      const page = await this.db.selectFrom('files').selectAll().where('status', '=', 'ready').where('id', '>', after).orderBy('id').limit(PAGE).execute();
      for (const f of page) yield { kind: 'file', file: toFile(f) };
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    for (let after = ''; ; ) {
      const page = await this.db
        .selectFrom('file_refs')
        .selectAll('file_refs')
        .innerJoin('files', 'files.id', 'file_refs.file_id')
        .where('files.status', '=', 'ready')
        .where('file_refs.id', '>', after)
        .orderBy('file_refs.id')
        .limit(PAGE)
        .execute();
      for (const r of page) yield { kind: 'ref', ref: toRef(r) };
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    for await (const d of this.rowsByKey('derivatives', ['file_id', 'variant'])) yield { kind: 'derivative', derivative: toDerivative(d) };
    // Last: the lifecycle tables, as they are.
    for (const table of Object.keys(LIFECYCLE_TABLES) as LifecycleTable[]) {
      for await (const row of this.rowsByKey(table, LIFECYCLE_TABLES[table])) yield { kind: 'lifecycle-row', table, row: row as LifecycleRow };
    }
  }

  /**
   * Every row of a table in key order, a page at a time (the export): each page starts after the
   * last key of the one before, compared as a row value, (a, b) > (x, y), which SQLite and
   * PostgreSQL both have.
   */
  private async *rowsByKey<T extends keyof Database & string>(table: T, key: readonly string[], pageSize = 500): AsyncIterable<Selectable<Database[T]>> {
    const cols = sql.join(key.map((c) => sql.ref(c)));
    for (let after: unknown[] | null = null; ; ) {
      const where: RawBuilder<unknown> = after ? sql`where (${cols}) > (${sql.join(after)})` : sql``;
      const page: Array<Selectable<Database[T]>> = (await sql<Selectable<Database[T]>>`select * from ${sql.table(table)} ${where} order by ${cols} limit ${pageSize}`.execute(this.db)).rows;
      yield* page;
      if (page.length < pageSize) return;
      const last = page[page.length - 1] as Record<string, unknown>;
      after = key.map((c) => last[c]);
    }
  }

  async importRecord(r: MetaRecord): Promise<boolean> {
    let res: { numInsertedOrUpdatedRows?: bigint };
    switch (r.kind) {
      case 'app':
        res = await this.db
          .insertInto('apps')
          .values({ app_id: r.app.appId, secret: r.app.secret, sign_key: r.app.signKey, created_at: r.app.createdAt })
          .onConflict((oc) => oc.column('app_id').doNothing())
          .executeTakeFirst();
        break;
      case 'keyring':
        return this.importKeyring(r.keyring);
      case 'group':
        res = await this.db
          .insertInto('groups')
          .values({ app_id: r.group.appId, group_id: r.group.groupId, owner_id: r.group.ownerId, created_at: Date.now() })
          .onConflict((oc) => oc.columns(['app_id', 'group_id']).doNothing())
          .executeTakeFirst();
        break;
      case 'member':
        res = await this.db
          .insertInto('group_members')
          .values({ app_id: r.appId, group_id: r.groupId, user_id: r.userId, role: r.role, joined_at: r.joinedAt ?? null })
          .onConflict((oc) => oc.columns(['app_id', 'group_id', 'user_id']).doNothing())
          .executeTakeFirst();
        break;
      case 'membership-url':
      case 'group-state':
      case 'membership-clock':
      case 'recorded-event':
        return this.importMembershipRecord(r);
      case 'file':
        res = await this.db.insertInto('files').values(fileRow(r.file)).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
        // A store exported before references existed names no original reference: add it.
        await this.db.insertInto('file_refs').values(refRow(originalRef(r.file))).onConflict((oc) => oc.column('id').doNothing()).execute();
        break;
      case 'ref':
        // The file's record added its original reference as live: a deleted one stays deleted.
        res = await this.db
          .insertInto('file_refs')
          .values(refRow(r.ref))
          .onConflict((oc) => oc.column('id').doUpdateSet({ state: r.ref.state, deleted_at: r.ref.deletedAt }).where('file_refs.state', '!=', r.ref.state))
          .executeTakeFirst();
        break;
      case 'lifecycle-row':
        return this.importLifecycleRow(r.table, r.row);
      case 'derivative': {
        const d = r.derivative;
        res = await this.db
          .insertInto('derivatives')
          .values({ file_id: d.fileId, variant: d.variant, storage_key: d.storageKey, size: d.size, sha256: d.sha256, content_type: d.contentType, created_at: d.createdAt })
          .onConflict((oc) => oc.columns(['file_id', 'variant']).doNothing())
          .executeTakeFirst();
        break;
      }
    }
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  }
  /** A row of a lifecycle table as exportRecords gave it, unless one with its key is there. */
  private async importLifecycleRow(table: LifecycleTable, row: LifecycleRow): Promise<boolean> {
    if (!Object.hasOwn(LIFECYCLE_TABLES, table)) throw new Error(`not a lifecycle table: ${table}`);
    const cols = Object.keys(row);
    const key = sql.join(LIFECYCLE_TABLES[table].map((c) => sql.ref(c)));
    const res = await sql`insert into ${sql.table(table)} (${sql.join(cols.map((c) => sql.ref(c)))}) values (${sql.join(cols.map((c) => row[c]))}) on conflict (${key}) do nothing`.execute(this.db);
    return Number(res.numAffectedRows ?? 0n) > 0;
  }


  // ── membership: export and import (migrate-store) ──

  /** Like every import: added unless the target has it already (then the target's copy stays). */
  private async importMembershipRecord(r: Extract<MetaRecord, { kind: 'membership-url' | 'group-state' | 'membership-clock' | 'recorded-event' }>): Promise<boolean> {
    let res: { numInsertedOrUpdatedRows?: bigint; numUpdatedRows?: bigint };
    switch (r.kind) {
      case 'membership-url':
        res = await this.db
          .insertInto('membership_settings')
          .values({ app_id: r.appId, membership_url: r.url })
          .onConflict((oc) => oc.column('app_id').doNothing())
          .executeTakeFirst();
        break;
      case 'group-state':
        // Only onto a group still in a new group's state: one the target already changed (a
        // push, an event, a dismissal since) keeps its own.
        res = await this.db
          .updateTable('groups')
          .set({ version: r.version, history_visible: r.historyVisible ? 1 : 0, dismissed_at: r.dismissedAt })
          .where('app_id', '=', r.appId)
          .where('group_id', '=', r.groupId)
          .where('version', 'is', null)
          .where('history_visible', '=', 1)
          .where('dismissed_at', 'is', null)
          .executeTakeFirst();
        return Number(res.numUpdatedRows ?? 0n) > 0;
      case 'membership-clock':
        res = await this.db
          .insertInto('membership_clock')
          .values({ app_id: r.appId, group_id: r.groupId, user_id: r.userId, at: r.at })
          .onConflict((oc) => oc.columns(['app_id', 'group_id', 'user_id']).doNothing())
          .executeTakeFirst();
        break;
      case 'recorded-event':
        res = await this.db
          .insertInto('recorded_events')
          .values({ app_id: r.appId, event_key: r.eventKey, type: r.event.type, payload: r.event.payload, at: r.event.at, received_at: r.event.receivedAt })
          .onConflict((oc) => oc.columns(['app_id', 'event_key']).doNothing())
          .executeTakeFirst();
        break;
    }
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /** migrate-store: an app's keyring joins the one already there (keys are only ever added). */
  private async importKeyring(k: Extract<MetaRecord, { kind: 'keyring' }>['keyring']): Promise<boolean> {
    const changed = (res: { numInsertedOrUpdatedRows?: bigint }) => Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
    let added = false;
    for (const key of k.retiredSignKeys) {
      const res = await this.db
        .insertInto('app_sign_keys')
        .values({ app_id: k.appId, sign_key: key.signKey, retired_at: key.retiredAt })
        .onConflict((oc) => oc.columns(['app_id', 'sign_key']).doNothing())
        .executeTakeFirst();
      added = changed(res) || added;
    }
    const revocations = [
      ...k.revocations.map((r) => ({ table: 'token_revocations' as const, ...r })),
      ...k.slotRevocations.map((r) => ({ table: 'slot_revocations' as const, ...r })),
    ];
    for (const { table, userId, before } of revocations) added = changed(await upsertRevocation(this.db, table, k.appId, userId, before)) || added;
    if (k.previousSecret) {
      const res = await this.db
        .updateTable('apps')
        .set({ previous_secret: k.previousSecret.secret, previous_secret_until: k.previousSecret.until })
        .where('app_id', '=', k.appId)
        .where('previous_secret', 'is', null)
        .executeTakeFirst();
      added = Number(res.numUpdatedRows) > 0 || added;
    }
    // Nodes already running on this database load the imported keys within a second.
    if (added) await this.db.updateTable('apps').set({ keys_version: sql<number>`keys_version + 1` }).where('app_id', '=', k.appId).execute();
    return added;
  }

  async acquireLease(name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    const res = await this.db
      .insertInto('leases')
      .values({ name, holder, expires_at: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder, expires_at: now + ttlMs })
          .where('leases.expires_at', '<', now),
      )
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
  }
}

/** A user's revocation (of tokens or of slots) set, or moved later; an earlier one changes nothing. */
function upsertRevocation(db: Kysely<Database>, table: 'token_revocations' | 'slot_revocations', appId: string, userId: string, before: number) {
  return db
    .insertInto(table)
    .values({ app_id: appId, user_id: userId, revoked_before: before })
    .onConflict((oc) => oc.columns(['app_id', 'user_id']).doUpdateSet({ revoked_before: before }).where(`${table}.revoked_before`, '<', before))
    .executeTakeFirst();
}
