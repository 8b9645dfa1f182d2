// The one error type for "the storage underneath failed": the database, the disk, the object
// store. The seams (src/meta/, src/bytes/) raise it with a message an operator understands and
// the driver's own error as `cause`; everything above them maps it to 10009 without knowing
// which storage it runs on.

/**
 * What kind of failure, so the answer can say whether a retry helps soon:
 * busy (locked by another writer: retry in a moment), full (disk or quota), read-only,
 * unavailable (unreachable, shutting down), failed (anything else the storage reported).
 */
export type StorageFailure = 'busy' | 'full' | 'read-only' | 'unavailable' | 'failed';

/**
 * Which storage failed, for metrics and readiness: the database (meta seam), the store holding
 * the bytes (bytes seam), or a scratch folder (media work, S3 part spooling).
 */
export type StorageLayer = 'database' | 'store' | 'scratch';

export class StorageError extends Error {
  readonly kind: StorageFailure;
  readonly layer: StorageLayer;

  constructor(message: string, opts: { cause?: unknown; kind?: StorageFailure; layer?: StorageLayer } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StorageError';
    this.kind = opts.kind ?? 'failed';
    this.layer = opts.layer ?? 'store';
  }
}

/** File-system error codes that mean the disk, not the request, is at fault. */
const DISK_CODES: Record<string, { kind: StorageFailure; what: string }> = {
  ENOSPC: { kind: 'full', what: 'no space left on the device' },
  EDQUOT: { kind: 'full', what: 'disk quota exceeded' },
  EROFS: { kind: 'read-only', what: 'the file system is read-only' },
  EIO: { kind: 'failed', what: 'input/output error (failing disk?)' },
  EACCES: { kind: 'failed', what: 'permission denied (check the owner and mode of the folder)' },
  EPERM: { kind: 'failed', what: 'operation not permitted (check the owner and mode of the folder)' },
};

/**
 * A StorageError for a file-system failure in `where` (a folder an operator recognises), or
 * null when err is not a disk failure (a bug, a client hanging up).
 */
export function diskStorageError(err: unknown, where: string, layer: StorageLayer = 'store'): StorageError | null {
  if (err instanceof StorageError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const known = typeof code === 'string' ? DISK_CODES[code] : undefined;
  if (!known) return null;
  return new StorageError(`${where}: ${known.what} (${code})`, { cause: err, kind: known.kind, layer });
}
