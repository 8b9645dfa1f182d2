// The bytes seam. Local disk (embedded) and S3 (scale-out) sit below it. Keys are Ferry's own
// (never client input), made of [A-Za-z0-9/_-].
import type { Readable } from 'node:stream';

export interface ByteRange {
  /** inclusive */
  start: number;
  /** inclusive */
  end: number;
}

/**
 * Bytes that have been received in full but are not yet the object at their key: a failed
 * request can still throw them away, so no partial or unconfirmed file is ever visible.
 */
export interface StagedObject {
  commit(): Promise<void>;
  discard(): Promise<void>;
}

export class ObjectNotFoundError extends Error {}

/** The store itself failed (disk full, S3 down): clients get 10009. */
export class StorageError extends Error {}

export interface ByteStore {
  /** Start everything the store needs (folders, bucket checks). */
  init(): Promise<void>;
  /**
   * Stream source into the store. Resolves once every byte is durable; rejects (leaving
   * nothing behind) if source errors, which is how size limits and aborts stop an upload.
   */
  stage(key: string, source: Readable, contentType: string): Promise<StagedObject>;
  /** Throws ObjectNotFoundError when the key holds nothing. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
