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

interface SlotRevocationsTable {
  app_id: string;
  user_id: string;
  revoked_before: BigIntColumn;
}

interface GroupsTable {
  app_id: string;
  group_id: string;
  owner_id: string;
  created_at: BigIntColumn;
  version: ColumnType<number | string | null, number | null | undefined, number | null>;
  history_visible: ColumnType<number, number | undefined, number>;
  dismissed_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

interface GroupMembersTable {
  app_id: string;
  group_id: string;
  user_id: string;
  role: string;
  joined_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

interface MembershipClockTable {
  app_id: string;
  group_id: string;
  user_id: string;
  at: BigIntColumn;
}

interface MembershipAnswersTable {
  app_id: string;
  group_id: string;
  user_id: string;
  member: number;
  role: string | null;
  joined_at: BigIntColumn | null;
  asked_at: BigIntColumn;
}

interface RecordedEventsTable {
  app_id: string;
  event_key: string;
  type: string;
  payload: string;
  at: BigIntColumn;
  received_at: BigIntColumn;
}

interface MembershipSettingsTable {
  app_id: string;
  membership_url: string | null;
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

/** Usage by kind per UTC day: what was added (uploads) and removed (purges) that day. */
interface UsageHistoryTable {
  app_id: string;
  day: string;
  kind: string;
  bytes_added: BigIntColumn;
  files_added: BigIntColumn;
  bytes_removed: BigIntColumn;
  files_removed: BigIntColumn;
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
  membership_clock: MembershipClockTable;
  membership_answers: MembershipAnswersTable;
  recorded_events: RecordedEventsTable;
  membership_settings: MembershipSettingsTable;
  file_refs: FileRefsTable;
  quarantine: QuarantineTable;
  usage: UsageTable;
  usage_daily: UsageDailyTable;
  app_settings: AppSettingsTable;
  shared_files: SharedFilesTable;
  audit_log: AuditLogTable;
  app_sign_keys: AppSignKeysTable;
  token_revocations: TokenRevocationsTable;
  slot_revocations: SlotRevocationsTable;
  usage_history: UsageHistoryTable;
}
