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

/** The store itself failed (disk full, S3 down): clients get 10009. Defined beside the meta seam's. */
export { StorageError } from '../storage-error.ts';

export interface ObjectInfo {
  size: number;
  contentType: string | null;
}

export interface PresignGetOptions {
  /** the answer headers the store must send, as Ferry would have */
  contentType: string;
  contentDisposition: string;
  cacheControl: string;
}

export interface PresignedGet {
  url: string;
  /** epoch ms until which the same URL is handed out again (so caches can reuse it) */
  reusableUntil: number;
  expiresAt: number;
}

export interface PresignedPut {
  url: string;
}

/** Reads up to this size may go through readSmall. */
export const SMALL_READ_BYTES = 64 * 1024;

/** Presigned GET URLs: the client fetches the object from the store, not through Ferry. */
export interface Presigner {
  presignGet(key: string, opts: PresignGetOptions): Promise<PresignedGet>;
}

/** Direct uploads: the client PUTs the bytes to the store itself (apps in FERRY_S3_DIRECT_UPLOAD_APPS). */
export interface DirectUploads {
  presignPut(key: string, contentType: string): Promise<PresignedPut>;
}

/**
 * A store declares what it can do beyond the basics by carrying the optional parts below (as
 * tus stores declare their extensions); callers test for the part, never for the store's kind.
 */
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
  /**
   * The same bytes in one buffer, for small reads (at most SMALL_READ_BYTES): one read and one
   * socket write instead of a stream's machinery. Optional.
   */
  readSmall?(key: string, range: ByteRange): Promise<Buffer>;
  /** Size and type of the object at key, or null when there is none. */
  head(key: string): Promise<ObjectInfo | null>;
  delete(key: string): Promise<void>;
  /**
   * Resolve when the store answers (local disk: its folders are there; S3: the bucket answers
   * HEAD); reject otherwise. Cheap: /readyz calls it about once a second.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Where an outside service that reads Ferry's storage itself (the imgproxy-style image
   * service) finds the object: s3://bucket/key, or local:///key under the objects folder.
   */
  locator(key: string): string;
  readonly presigner?: Presigner;
  readonly directUploads?: DirectUploads;
}
