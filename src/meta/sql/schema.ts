// Table shapes as kysely sees them. Times are epoch milliseconds; ids are decimal strings.
import type { ColumnType } from 'kysely';

// PostgreSQL drivers return bigint columns as strings; SQLite returns numbers.
type BigIntColumn = ColumnType<number | string, number, number>;

interface AppsTable {
  app_id: string;
  secret: string;
  sign_key: string;
  created_at: BigIntColumn;
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

export interface FileRefsTable {
  id: string;
  app_id: string;
  file_id: string;
  from_id: string;
  to_id: string | null;
  to_type: number | null;
  file_type: number;
  state: string;
  created_at: BigIntColumn;
  deleted_at: BigIntColumn | null;
}

interface QuarantineTable {
  app_id: string;
  sha256: string;
  reason: string;
  created_at: BigIntColumn;
}

interface UsageTable {
  app_id: string;
  user_id: string;
  kind: string;
  bytes: BigIntColumn;
  files: BigIntColumn;
}

interface UsageDailyTable {
  app_id: string;
  user_id: string;
  day: string;
  bytes: BigIntColumn;
}

interface AppSettingsTable {
  app_id: string;
  settings: string;
}

export interface SharedFilesTable {
  file_id: BigIntColumn;
  app_id: string;
  group_id: string;
  ref_id: string;
  url: string;
  name: string;
  size: BigIntColumn;
  type: number;
  uploader: string;
  created_at: BigIntColumn;
  updated_at: BigIntColumn;
}

export interface AuditLogTable {
  id: string;
  app_id: string;
  at: BigIntColumn;
  actor: string;
  action: string;
  target: string;
  detail: string | null;
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
  file_refs: FileRefsTable;
  quarantine: QuarantineTable;
  usage: UsageTable;
  usage_daily: UsageDailyTable;
  app_settings: AppSettingsTable;
  shared_files: SharedFilesTable;
  audit_log: AuditLogTable;
}
