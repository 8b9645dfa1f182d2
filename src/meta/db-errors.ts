// Recognises storage failures among whatever the drivers throw (unreachable, busy, full,
// read-only), so the meta seam raises them as StorageError with a message an operator
// understands; logic errors (a bad query, a constraint) are left alone. Only src/meta/ uses it.
import { StorageError, type StorageFailure } from '../storage-error.ts';

// Node's socket errors, and postgres.js's connection error codes (the test helpers use it).
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

// SQLSTATE: class 08 is connection exceptions; 57P01–57P03 are shutdown/crash/starting up;
// 53300 is too many connections.
const SQLSTATE = /^(08...|57P0[1-3]|53300)$/;

// node-postgres reports a lost or unobtainable connection by message only.
const PG_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed)/;

export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    if (e instanceof AggregateError && e.errors.some((x) => isDatabaseUnavailable(x))) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || SQLSTATE.test(code))) return true;
    if (e instanceof Error && PG_MESSAGES.test(e.message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** SQLite result codes (better-sqlite3 puts the extended one in err.code, e.g. SQLITE_BUSY_SNAPSHOT). */
const SQLITE: Array<[RegExp, StorageFailure, string]> = [
  [/^SQLITE_(BUSY|LOCKED)/, 'busy', 'the SQLite database is locked by another process or connection'],
  [/^SQLITE_FULL/, 'full', 'the disk holding the SQLite database is full'],
  [/^SQLITE_READONLY/, 'read-only', 'the SQLite database is read-only (read-only file system, or file permissions)'],
  [/^SQLITE_(IOERR|CANTOPEN)/, 'failed', 'the SQLite database file could not be read or written (disk error?)'],
  [/^SQLITE_(CORRUPT|NOTADB)/, 'failed', 'the SQLite database file is damaged'],
];

/** PostgreSQL SQLSTATEs beyond "unavailable": disk full, out of memory, read-only, lock wait. */
const PG_STATES: Array<[RegExp, StorageFailure, string]> = [
  [/^53100$/, 'full', 'PostgreSQL is out of disk space'],
  [/^53/, 'unavailable', 'PostgreSQL is out of resources (memory or connections)'],
  [/^25006$/, 'read-only', 'PostgreSQL is read-only (a standby, or default_transaction_read_only)'],
  [/^(55P03|40P01|40001)$/, 'busy', 'PostgreSQL could not take a lock in time'],
];

/**
 * What storage failure err is, with an operator's description, or null for any other error.
 * Walks `cause` chains and AggregateErrors (pg reports a failed connect as one).
 */
export function classifyDatabaseError(err: unknown): { kind: StorageFailure; what: string } | null {
  if (isDatabaseUnavailable(err)) return { kind: 'unavailable', what: 'the database is unreachable' };
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      for (const [re, kind, what] of code.startsWith('SQLITE_') ? SQLITE : PG_STATES) if (re.test(code)) return { kind, what };
      if (code === 'ENOSPC' || code === 'EDQUOT') return { kind: 'full', what: 'the disk holding the database is full' };
      if (code === 'EROFS') return { kind: 'read-only', what: 'the database is on a read-only file system' };
    }
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** err as a StorageError when it is a storage failure; otherwise err itself, unchanged. */
export function asStorageError(err: unknown): unknown {
  if (err instanceof StorageError) return err;
  const c = classifyDatabaseError(err);
  if (!c) return err;
  const detail = err instanceof Error ? `: ${err.message}` : '';
  return new StorageError(`${c.what}${detail}`, { cause: err, kind: c.kind, layer: 'database' });
}
