// Schema migrations, written once for both SQLite and PostgreSQL. Add new ones at the end;
// never edit one that has shipped.
import type { Kysely, Migration, MigrationProvider } from 'kysely';

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
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
