// Schema migrations, written once for both SQLite and PostgreSQL. Add new ones at the end;
// never edit one that has shipped.
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('apps')
        .addColumn('app_id', 'text', (c) => c.primaryKey())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('sign_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('groups')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('groups_pk', ['app_id', 'group_id'])
        .execute();
      await db.schema
        .createTable('group_members')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('group_members_pk', ['app_id', 'group_id', 'user_id'])
        .execute();
      await db.schema
        .createTable('files')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('file_type', 'integer', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('to_id', 'text')
        .addColumn('to_type', 'integer')
        .addColumn('slot_id', 'text', (c) => c.notNull().unique())
        .addColumn('slot_expires_at', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('storage_key', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint')
        .addColumn('sha256', 'text')
        .addColumn('content_type', 'text')
        .addColumn('file_name', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        // set when an upload starts and refreshed while it runs, so a slot whose node died
        // mid-upload can be claimed again once the claim is stale
        .addColumn('claimed_at', 'bigint')
        .execute();
      await db.schema.createIndex('files_status_expiry').on('files').columns(['status', 'slot_expires_at']).execute();
    },
  },
  '0002_media': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('files').addColumn('width', 'integer').execute();
      await db.schema.alterTable('files').addColumn('height', 'integer').execute();
      await db.schema.alterTable('files').addColumn('duration_ms', 'bigint').execute();
      await db.schema
        .createTable('derivatives')
        .addColumn('file_id', 'text', (c) => c.notNull())
        .addColumn('variant', 'text', (c) => c.notNull())
        .addColumn('storage_key', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('derivatives_pk', ['file_id', 'variant'])
        .execute();
    },
  },
  '0003_leases': {
    async up(db: Kysely<unknown>) {
      // Short-lived named locks shared by every node (e.g. one node makes a thumbnail while
      // the others wait for it).
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0004_membership': {
    async up(db: Kysely<unknown>) {
      // Membership that follows the operator's IM server (docs/membership.md).
      await db.schema.alterTable('groups').addColumn('version', 'bigint').execute();
      // Lanying shows a group's history to new members unless told otherwise.
      await db.schema.alterTable('groups').addColumn('history_visible', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      // A dismissed group is kept as a row so that events older than its dismissal stay ignored.
      await db.schema.alterTable('groups').addColumn('dismissed_at', 'bigint').execute();
      await db.schema.alterTable('group_members').addColumn('joined_at', 'bigint').execute();
      // user.deleted takes a user out of every group of the app at once.
      await db.schema.createIndex('group_members_user').on('group_members').columns(['app_id', 'user_id']).execute();
      // The newest event applied per (group, user); group-wide events use user_id '' and
      // user-wide ones group_id '', so an older event never undoes a newer one.
      await db.schema
        .createTable('membership_clock')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('membership_clock_pk', ['app_id', 'group_id', 'user_id'])
        .execute();
      // What the IM server answered when asked, shared by every node: a known answer never
      // costs a download a remote call.
      await db.schema
        .createTable('membership_answers')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('member', 'integer', (c) => c.notNull())
        .addColumn('role', 'text')
        .addColumn('joined_at', 'bigint')
        .addColumn('asked_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('membership_answers_pk', ['app_id', 'group_id', 'user_id'])
        .execute();
      // Events Ferry accepted but whose effect (file deletion) is another part's work.
      await db.schema
        .createTable('recorded_events')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('event_key', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('recorded_events_pk', ['app_id', 'event_key'])
        .execute();
      await db.schema
        .createTable('membership_settings')
        .addColumn('app_id', 'text', (c) => c.primaryKey())
        .addColumn('membership_url', 'text')
        .execute();
    },
  },
  '0005_lifecycle': {
    async up(db: Kysely<unknown>) {
      // A reference is one download_url: the original upload's (its id is the file's own id, so
      // signs minted before this migration still name it) or one forward. Deleting one marks
      // it; the bytes go when a file has no reference left. state: live | quarantined | deleted.
      await db.schema
        .createTable('file_refs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('file_id', 'text', (c) => c.notNull())
        .addColumn('from_id', 'text', (c) => c.notNull())
        .addColumn('to_id', 'text')
        .addColumn('to_type', 'integer')
        .addColumn('file_type', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .execute();
      await db.schema.createIndex('file_refs_file').on('file_refs').column('file_id').execute();
      await db.schema.createIndex('file_refs_sender').on('file_refs').columns(['app_id', 'from_id']).execute();
      await db.schema.createIndex('file_refs_conversation').on('file_refs').columns(['app_id', 'to_type', 'to_id']).execute();
      // Every file that exists gets its original reference.
      await sql`INSERT INTO file_refs (id, app_id, file_id, from_id, to_id, to_type, file_type, state, created_at, deleted_at)
        SELECT id, app_id, id, owner_id, to_id, to_type, file_type, 'live', created_at, NULL FROM files`.execute(db);
      await db.schema.createIndex('files_app_sha256').on('files').columns(['app_id', 'sha256']).execute();
      await db.schema.createIndex('files_app_completed').on('files').columns(['app_id', 'status', 'completed_at']).execute();
      await db.schema
        .createTable('quarantine')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('quarantine_pk', ['app_id', 'sha256'])
        .execute();
      // Usage counters, kept at upload and purge. user_id '*' holds the app's total per kind.
      await db.schema
        .createTable('usage')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('files', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('usage_pk', ['app_id', 'user_id', 'kind'])
        .execute();
      await db.schema
        .createTable('usage_daily')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('usage_daily_pk', ['app_id', 'user_id', 'day'])
        .execute();
      await db.schema
        .createTable('app_settings')
        .addColumn('app_id', 'text', (c) => c.primaryKey())
        .addColumn('settings', 'text', (c) => c.notNull())
        .execute();
      // Lanying's group shared files: file_id is a number JavaScript keeps exact (below 2^53).
      await db.schema
        .createTable('shared_files')
        .addColumn('file_id', 'bigint', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('ref_id', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('type', 'integer', (c) => c.notNull())
        .addColumn('uploader', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('shared_files_ref').on('shared_files').columns(['app_id', 'ref_id']).unique().execute();
      await db.schema.createIndex('shared_files_group').on('shared_files').columns(['app_id', 'group_id']).execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('audit_log_app').on('audit_log').columns(['app_id', 'id']).execute();
    },
  },
  '0006_operations': {
    async up(db: Kysely<unknown>) {
      // Key rotation and token revocation. keys_version moves with every change to them, so
      // each node's cached keys are checked with one cheap read (src/auth/app-registry.ts).
      await db.schema.alterTable('apps').addColumn('keys_version', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('apps').addColumn('previous_secret', 'text').execute();
      await db.schema.alterTable('apps').addColumn('previous_secret_until', 'bigint').execute();
      // Retired sign keys stay: a file_sign in chat history is never re-issued.
      await db.schema
        .createTable('app_sign_keys')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('sign_key', 'text', (c) => c.notNull())
        .addColumn('retired_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('app_sign_keys_pk', ['app_id', 'sign_key'])
        .execute();
      await db.schema
        .createTable('token_revocations')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('revoked_before', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('token_revocations_pk', ['app_id', 'user_id'])
        .execute();
    },
  },
  '0007_usage_history': {
    async up(db: Kysely<unknown>) {
      // Usage by kind over time, for the console's chart: one row per app, UTC day and kind,
      // added to at upload and at purge. Additions and removals are kept apart, so a day with
      // as much deleted as uploaded still shows both.
      await db.schema
        .createTable('usage_history')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('bytes_added', 'bigint', (c) => c.notNull())
        .addColumn('files_added', 'bigint', (c) => c.notNull())
        .addColumn('bytes_removed', 'bigint', (c) => c.notNull())
        .addColumn('files_removed', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('usage_history_pk', ['app_id', 'day', 'kind'])
        .execute();
    },
  },
  '0008_slot_revocations': {
    async up(db: Kysely<unknown>) {
      // An admin erasure ends the user's upload slots handed out before it without logging the
      // user out: a slot taken before the erasure and used after it would otherwise deliver a
      // file the erasure was meant to have removed.
      await db.schema
        .createTable('slot_revocations')
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('revoked_before', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('slot_revocations_pk', ['app_id', 'user_id'])
        .execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
