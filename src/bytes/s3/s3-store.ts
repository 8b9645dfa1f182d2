// The scale-out column: objects in an S3-compatible bucket (AWS S3, Ceph RGW, MinIO…). Uploads
// stream into the bucket as multipart uploads with a bounded buffer, so a node's memory does
// not grow with file size. Downloads can skip Ferry entirely: presignGet() hands out a GET URL
// signed for the public endpoint, and the same URL comes back for a while (from any node) so
// browser caches keep working.
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ByteRange, ByteStore, ObjectInfo, PresignedGet, PresignGetOptions, PresignedPut, StagedObject } from '../byte-store.ts';
import { ObjectNotFoundError, StorageError } from '../byte-store.ts';

export interface S3StoreOptions {
  bucket: string;
  /** where Ferry itself reaches the store; undefined: AWS */
  endpoint: string | undefined;
  /** the host clients are redirected to, when it differs from the internal endpoint */
  publicEndpoint: string | undefined;
  region: string;
  accessKey: string | undefined;
  secretKey: string | undefined;
  forcePathStyle: boolean;
  /** how long presigned URLs stay valid */
  urlTtlSeconds: number;
  /** redirect: downloads get presigned URLs; stream: they go through Ferry */
  download: 'redirect' | 'stream';
  /** multipart part size; the memory an upload holds is about partSize × (queueSize + 1) */
  partSize?: number;
  queueSize?: number;
}

const MiB = 1024 * 1024;

function clientFor(opts: S3StoreOptions, endpoint: string | undefined): S3Client {
  return new S3Client({
    endpoint,
    region: opts.region,
    forcePathStyle: opts.forcePathStyle,
    credentials: opts.accessKey && opts.secretKey ? { accessKeyId: opts.accessKey, secretAccessKey: opts.secretKey } : undefined,
    // Checksums only where the API requires them: several S3-compatible stores (older Ceph,
    // MinIO, OSS) reject the newer CRC trailers the SDK sends by default.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A store that is down must become a quick 10009, not a long wait with retries piling up.
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 3000, requestTimeout: 60_000 },
  });
}

function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404;
}

function storageError(what: string, err: unknown): StorageError {
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new StorageError(`S3 ${what} failed: ${msg}`, { cause: err });
}

export class S3ByteStore implements ByteStore {
  private readonly client: S3Client;
  private readonly signer: S3Client;
  private readonly bucket: string;

  constructor(private readonly opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    this.client = clientFor(opts, opts.endpoint);
    this.signer = opts.publicEndpoint && opts.publicEndpoint !== opts.endpoint ? clientFor(opts, opts.publicEndpoint) : this.client;
  }

  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (isNotFound(err)) throw new Error(`bucket "${this.bucket}" does not exist at ${this.opts.endpoint ?? 'AWS'}: create it first`);
      throw storageError(`access to bucket "${this.bucket}"`, err);
    }
  }

  async stage(key: string, source: Readable, contentType: string): Promise<StagedObject> {
    // An error from the source (size limit, client gone) is the caller's to report as it is;
    // anything else on the way is the store's fault.
    let sourceError: unknown = null;
    const onSourceError = (err: unknown) => {
      sourceError ??= err;
    };
    source.once('error', onSourceError);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: source, ContentType: contentType },
      partSize: this.opts.partSize ?? 5 * MiB,
      queueSize: this.opts.queueSize ?? 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      // A multipart upload aborted by lib-storage leaves no object; a single PUT that failed
      // never created one. Delete anyway in case the failure came after the object landed.
      await this.delete(key).catch(() => {});
      if (sourceError) throw sourceError;
      if (source.destroyed && source.errored) throw source.errored;
      throw storageError('upload', err);
    } finally {
      source.off('error', onSourceError);
    }
    if (sourceError) {
      await this.delete(key).catch(() => {});
      throw sourceError;
    }
    // The object is in place under its final key already; it is invisible to clients until
    // the metadata record says ready, so commit has nothing left to do.
    return {
      commit: async () => {},
      discard: () => this.delete(key),
    };
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      return res.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key);
      throw storageError('read', err);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: res.ContentLength ?? 0, contentType: res.ContentType ?? null };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw storageError('head', err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw storageError('delete', err);
    }
  }

  async presignGet(key: string, opts: PresignGetOptions): Promise<PresignedGet | null> {
    if (this.opts.download !== 'redirect') return null;
    const ttl = this.opts.urlTtlSeconds;
    // Sign as of the start of the current window: every request (on every node) in the same
    // window gets the same URL, so a browser's cached copy of it stays valid. Half the TTL:
    // a URL handed out at the end of its window still has half its life left.
    const window = Math.max(1, Math.floor(ttl / 2));
    const signedAt = Math.floor(Date.now() / 1000 / window) * window;
    const url = await getSignedUrl(
      this.signer,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentType: opts.contentType,
        ResponseContentDisposition: opts.contentDisposition,
        ResponseCacheControl: opts.cacheControl,
      }),
      { expiresIn: ttl, signingDate: new Date(signedAt * 1000) },
    );
    return { url, reusableUntil: (signedAt + window) * 1000, expiresAt: (signedAt + ttl) * 1000 };
  }

  async presignPut(key: string, contentType: string, contentLength?: number): Promise<PresignedPut> {
    const ttlSeconds = this.opts.urlTtlSeconds;
    const url = await getSignedUrl(
      this.signer,
      new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: contentType, ContentLength: contentLength }),
      {
        expiresIn: ttlSeconds,
        // Signed headers, not query parameters: S3 then refuses a PUT with another type or length.
        signableHeaders: new Set(contentLength === undefined ? ['content-type'] : ['content-type', 'content-length']),
        unhoistableHeaders: new Set(['content-type']),
      },
    );
    return { url, expiresAt: Date.now() + ttlSeconds * 1000 };
  }

  async close(): Promise<void> {
    this.client.destroy();
    if (this.signer !== this.client) this.signer.destroy();
  }
}
