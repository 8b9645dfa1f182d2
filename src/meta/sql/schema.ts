// Table shapes as kysely sees them. Times are epoch milliseconds; ids are decimal strings.
import type { ColumnType } from 'kysely';

// PostgreSQL drivers return bigint columns as strings; SQLite returns numbers.
type BigIntColumn = ColumnType<number | string, number, number>;

interface AppsTable {
  app_id: string;
  secret: string;
  sign_key: string;
  created_at: BigIntColumn;
  // 0006_operations
  keys_version: ColumnType<number | string, number | undefined, number>;
  previous_secret: string | null;
  previous_secret_until: BigIntColumn | null;
}

interface AppSignKeysTable {
  app_id: string;
  sign_key: string;
  retired_at: BigIntColumn;
}

interface TokenRevocationsTable {
  app_id: string;
  user_id: string;
  revoked_before: BigIntColumn;
}

interface GroupsTable {
  app_id: string;
  group_id: string;
  owner_id: string;
  created_at: BigIntColumn;
}

interface GroupMembersTable {
  app_id: string;
  group_id: string;
  user_id: string;
  role: string;
}

export interface FilesTable {
  id: string;
  app_id: string;
  kind: string;
  file_type: number;
  owner_id: string;
  to_id: string | null;
  to_type: number | null;
  slot_id: string;
  slot_expires_at: BigIntColumn;
  status: string;
  storage_key: string;
  size: BigIntColumn | null;
  sha256: string | null;
  content_type: string | null;
  file_name: string | null;
  created_at: BigIntColumn;
  completed_at: BigIntColumn | null;
  claimed_at: BigIntColumn | null;
  width: number | null;
  height: number | null;
  duration_ms: BigIntColumn | null;
}

export interface DerivativesTable {
  file_id: string;
  variant: string;
  storage_key: string;
  size: BigIntColumn;
  sha256: string;
  content_type: string;
  created_at: BigIntColumn;
}

interface LeasesTable {
  name: string;
  holder: string;
  expires_at: BigIntColumn;
}

export interface Database {
  apps: AppsTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  files: FilesTable;
  derivatives: DerivativesTable;
  leases: LeasesTable;
  app_sign_keys: AppSignKeysTable;
  token_revocations: TokenRevocationsTable;
}
