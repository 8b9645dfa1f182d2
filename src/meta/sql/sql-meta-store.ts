// MetaStore on kysely. The queries are plain enough to run unchanged on SQLite and PostgreSQL;
// only the connection (dialect) differs, see sqlite.ts.
import { Migrator, sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import { LRUCache } from 'lru-cache';
import type {
  MetaRecord,
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
} from '../meta-store.ts';
import { AlreadyExistsError } from '../meta-store.ts';
import type { Database, DerivativesTable, FilesTable } from './schema.ts';
import { migrationProvider } from './migrations.ts';
import { classifyDatabaseError } from '../db-errors.ts';

const num = (v: number | string) => Number(v);
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

function insertFile(db: Kysely<Database>, f: FileRecord) {
  return db.insertInto('files').values(fileRow(f)).execute();
}

export class SqlMetaStore implements MetaStore {
  constructor(
    private readonly db: Kysely<Database>,
    readonly sharedByNodes: boolean,
    private readonly onClose: () => Promise<void> = async () => {},
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
        .onConflict((oc) => oc.columns(['app_id', 'group_id']).doUpdateSet({ owner_id: group.ownerId }))
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
      .executeTakeFirst();
    return row ? { appId: row.app_id, groupId: row.group_id, ownerId: row.owner_id } : null;
  }

  async putMember(appId: string, groupId: string, userId: string, role: MemberRole): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (role === 'owner') {
        await tx.updateTable('groups').set({ owner_id: userId }).where('app_id', '=', appId).where('group_id', '=', groupId).execute();
        await tx
          .updateTable('group_members')
          .set({ role: 'member' })
          .where('app_id', '=', appId)
          .where('group_id', '=', groupId)
          .where('role', '=', 'owner')
          .execute();
      }
      await tx
        .insertInto('group_members')
        .values({ app_id: appId, group_id: groupId, user_id: userId, role })
        .onConflict((oc) => oc.columns(['app_id', 'group_id', 'user_id']).doUpdateSet({ role }))
        .execute();
    });
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
  private readonly readyFiles = new LRUCache<string, FileRecord>({ max: READY_CACHE_SIZE });

  async getFile(appId: string, id: string): Promise<FileRecord | null> {
    const hit = this.readyFiles.get(id);
    if (hit) return hit.appId === appId ? hit : null;
    const row = await this.db.selectFrom('files').selectAll().where('id', '=', id).where('app_id', '=', appId).executeTakeFirst();
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
    const row = await this.db
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

  async *exportRecords(): AsyncIterable<MetaRecord> {
    const PAGE = 500;
    for (const row of await this.db.selectFrom('apps').selectAll().orderBy('app_id').execute()) {
      yield { kind: 'app', app: { appId: row.app_id, secret: row.secret, signKey: row.sign_key, createdAt: num(row.created_at) } };
    }
    // Keyset pages: each page starts after the last key of the one before.
    for (let after = ['', '']; ; ) {
      const page = await this.db
        .selectFrom('groups')
        .select(['app_id', 'group_id', 'owner_id'])
        .where((eb) => eb.or([eb('app_id', '>', after[0]!), eb.and([eb('app_id', '=', after[0]!), eb('group_id', '>', after[1]!)])]))
        .orderBy('app_id')
        .orderBy('group_id')
        .limit(PAGE)
        .execute();
      for (const g of page) yield { kind: 'group', group: { appId: g.app_id, groupId: g.group_id, ownerId: g.owner_id } };
      if (page.length < PAGE) break;
      after = [page[page.length - 1]!.app_id, page[page.length - 1]!.group_id];
    }
    for (let after = ['', '', '']; ; ) {
      const [a, g, u] = after as [string, string, string];
      const page = await this.db
        .selectFrom('group_members')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb('app_id', '>', a),
            eb.and([eb('app_id', '=', a), eb('group_id', '>', g)]),
            eb.and([eb('app_id', '=', a), eb('group_id', '=', g), eb('user_id', '>', u)]),
          ]),
        )
        .orderBy('app_id')
        .orderBy('group_id')
        .orderBy('user_id')
        .limit(PAGE)
        .execute();
      for (const m of page) yield { kind: 'member', appId: m.app_id, groupId: m.group_id, userId: m.user_id, role: m.role as MemberRole };
      if (page.length < PAGE) break;
      const last = page[page.length - 1]!;
      after = [last.app_id, last.group_id, last.user_id];
    }
    for (let after = ''; ; ) {
      const page = await this.db.selectFrom('files').selectAll().where('status', '=', 'ready').where('id', '>', after).orderBy('id').limit(PAGE).execute();
      for (const f of page) yield { kind: 'file', file: toFile(f) };
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    for (let after = ['', '']; ; ) {
      const page = await this.db
        .selectFrom('derivatives')
        .selectAll()
        .where((eb) => eb.or([eb('file_id', '>', after[0]!), eb.and([eb('file_id', '=', after[0]!), eb('variant', '>', after[1]!)])]))
        .orderBy('file_id')
        .orderBy('variant')
        .limit(PAGE)
        .execute();
      for (const d of page) yield { kind: 'derivative', derivative: toDerivative(d) };
      if (page.length < PAGE) break;
      after = [page[page.length - 1]!.file_id, page[page.length - 1]!.variant];
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
          .values({ app_id: r.appId, group_id: r.groupId, user_id: r.userId, role: r.role })
          .onConflict((oc) => oc.columns(['app_id', 'group_id', 'user_id']).doNothing())
          .executeTakeFirst();
        break;
      case 'file':
        res = await this.db.insertInto('files').values(fileRow(r.file)).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
        break;
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
