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

/** What a client's direct PUT left: its size, and a tag that changes whenever it is overwritten. */
export interface UploadedObject {
  size: number;
  /** the store's version of these bytes (S3: the ETag) */
  version: string;
}

/**
 * Direct uploads: the client PUTs the bytes to the store itself (apps in
 * FERRY_S3_DIRECT_UPLOAD_APPS). A presigned PUT stays valid for its whole lifetime, so it never
 * writes the key Ferry serves: it lands at uploadKey(key), and adopt() makes the object at key
 * from it by a copy inside the store. Once adopted, nothing a client holds a URL for can change
 * the object at key.
 */
export interface DirectUploads {
  /** A PUT URL for the object that is to be at key; the PUT lands at uploadKey(key), never at key. */
  presignPut(key: string, contentType: string): Promise<PresignedPut>;
  /** Where the PUT for key lands (a key of its own, outside every key Ferry serves). */
  uploadKey(key: string): string;
  /** What the PUT for key has left at uploadKey(key), or null when nothing has arrived. */
  uploaded(key: string): Promise<UploadedObject | null>;
  /**
   * Copy uploadKey(key) to key inside the store, but only if it is still `version` (the one
   * uploaded() saw). Returns false, copying nothing, when the upload was overwritten or removed
   * since. The upload itself stays (the caller deletes it once it is done with it).
   */
  adopt(key: string, version: string): Promise<boolean>;
  /**
   * Delete every upload last written before `before` (epoch ms); returns how many. For the
   * janitor: a PUT to a URL after its file was confirmed, or for a record that is gone, leaves
   * an upload nobody will ever confirm.
   */
  deleteUploadsBefore(before: number): Promise<number>;
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
  /**
   * What readSmall would answer, when it is in memory already; undefined otherwise (then ask
   * readSmall). Only a store that keeps bytes in memory has it (cached-store.ts). Optional.
   */
  cachedSmall?(key: string, range: ByteRange): Buffer | undefined;
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
  /**
   * Abort the multipart uploads Ferry started (under its own keys) before `before` (epoch ms)
   * and never finished, which the store would otherwise keep (and bill) forever; returns how
   * many. Only stores that write in parts declare it (S3); the janitor asks for it.
   */
  abortStaleUploads?(before: number): Promise<number>;
}
