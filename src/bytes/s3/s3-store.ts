// The scale-out column: objects in an S3-compatible bucket (AWS S3, Ceph RGW, MinIO…). Uploads
// stream into the bucket as multipart uploads whose parts are spooled to a scratch folder
// (part-spool.ts), so a node's memory does not grow with file size or with concurrent uploads.
// Downloads can skip Ferry entirely: presignGet() hands out a GET URL signed for the public endpoint, and the same URL comes back for a while (from any node) so
// browser caches keep working.
import type { Readable } from 'node:stream';
import type { Config } from '../../config.ts';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { boundedCache } from '../../primitives/bounded-cache.ts';
import type {
  ByteRange,
  ByteStore,
  DirectUploads,
  ObjectInfo,
  PresignedGet,
  PresignGetOptions,
  PresignedPut,
  Presigner,
  StagedObject,
  UploadedObject,
} from '../byte-store.ts';
import { ObjectNotFoundError, StorageError } from '../byte-store.ts';
import { SourceError, spoolToS3 } from './part-spool.ts';

/** The FERRY_S3_* settings (config.ts), plus what only the store needs. */
type S3Settings = Config['s3'];
export interface S3StoreOptions extends S3Settings {
  bucket: string;
  /** scratch folder for parts on their way into the bucket (only this process uses it) */
  scratchDir: string;
  /** multipart part size (default 8 MiB); parts are spooled to scratchDir, not held in memory */
  partSize?: number;
  /** parts uploading at once while the next is written (default 2) */
  partsInFlight?: number;
}

const MiB = 1024 * 1024;
/** presigned download URLs kept for reuse (a few MB at most) */
const SIGNED_URLS_KEPT = 10_000;

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

/** The copy's precondition failed: the source is no longer the version Ferry saw. */
function isPreconditionFailed(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.name === 'PreconditionFailed' || err.$metadata.httpStatusCode === 412;
}

/** Ferry writes in parts only under these prefixes (files, derivatives): other uploads in the bucket are not its own. */
const MULTIPART_PREFIXES = ['files/', 'derived/'];

/** Direct PUTs land under this prefix, never where Ferry serves from (see DirectUploads). */
const UPLOADS_PREFIX = 'incoming/';

function storageError(what: string, err: unknown): StorageError {
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new StorageError(`S3 ${what} failed: ${msg}`, { cause: err });
}

/** Remove the part folders of processes that are gone (they died mid-upload). */
async function sweepScratch(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    // Folders of this very process belong to other stores in it (tests run several nodes).
    let alive = pid === process.pid;
    if (!alive && Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (!alive) await fsp.rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** how long a readiness check waits for the bucket */
const PING_TIMEOUT_MS = 2000;

export class S3ByteStore implements ByteStore, Presigner, DirectUploads {
  readonly presigner: Presigner = this;
  readonly directUploads: DirectUploads = this;
  private readonly client: S3Client;
  private readonly signer: S3Client;
  private readonly bucket: string;
  private readonly scratchDir: string;
  private readonly signed = boundedCache<string, PresignedGet>(SIGNED_URLS_KEPT);

  constructor(private readonly opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    // One folder per process: another process on the same data folder (the CLI, a second
    // node) must not sweep away parts still on their way.
    this.scratchDir = path.join(opts.scratchDir, `${process.pid}-${randomBytes(4).toString('hex')}`);
    this.client = clientFor(opts, opts.endpoint);
    this.signer = opts.publicEndpoint && opts.publicEndpoint !== opts.endpoint ? clientFor(opts, opts.publicEndpoint) : this.client;
  }

  async init(): Promise<void> {
    await sweepScratch(this.opts.scratchDir);
    await fsp.mkdir(this.scratchDir, { recursive: true });
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (isNotFound(err)) throw new Error(`bucket "${this.bucket}" does not exist at ${this.opts.endpoint ?? 'AWS'}: create it first`);
      throw storageError(`access to bucket "${this.bucket}"`, err);
    }
  }

  async stage(key: string, source: Readable, contentType: string): Promise<StagedObject> {
    try {
      await spoolToS3(
        {
          client: this.client,
          bucket: this.bucket,
          key,
          contentType,
          scratchDir: this.scratchDir,
          partSize: this.opts.partSize ?? 8 * MiB,
          partsInFlight: this.opts.partsInFlight ?? 2,
        },
        source,
      );
    } catch (err) {
      // An aborted multipart upload leaves no object and a failed PUT never made one; delete
      // anyway in case the failure came after the object landed.
      await this.delete(key).catch(() => {});
      // An error from the source (size limit, client gone) is the caller's to report as it is.
      if (err instanceof SourceError) throw err.original;
      throw storageError('upload', err);
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

  locator(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async presignGet(key: string, opts: PresignGetOptions): Promise<PresignedGet> {
    const ttl = this.opts.urlTtlSeconds;
    // Sign as of the start of the current window: every request (on every node) in the same
    // window gets the same URL, so a browser's cached copy of it stays valid. Half the TTL:
    // a URL handed out at the end of its window still has half its life left.
    const window = Math.max(1, Math.floor(ttl / 2));
    const signedAt = Math.floor(Date.now() / 1000 / window) * window;
    // The URL is a pure function of these, so it can be kept: signing costs more than the rest
    // of a download request together.
    const id = `${key}\u0000${opts.contentType}\u0000${opts.contentDisposition}\u0000${opts.cacheControl}\u0000${signedAt}`;
    const known = this.signed.get(id);
    if (known) return known;
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
    const out = { url, reusableUntil: (signedAt + window) * 1000, expiresAt: (signedAt + ttl) * 1000 };
    this.signed.set(id, out);
    return out;
  }

  uploadKey(key: string): string {
    return UPLOADS_PREFIX + key;
  }

  async presignPut(key: string, contentType: string): Promise<PresignedPut> {
    const put = new PutObjectCommand({ Bucket: this.bucket, Key: this.uploadKey(key), ContentType: contentType });
    const url = await getSignedUrl(this.signer, put, {
      expiresIn: this.opts.urlTtlSeconds,
      // A signed header, not a query parameter: S3 then refuses a PUT with another type.
      signableHeaders: new Set(['content-type']),
      unhoistableHeaders: new Set(['content-type']),
    });
    return { url };
  }

  async uploaded(key: string): Promise<UploadedObject | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.uploadKey(key) }));
      if (!res.ETag) throw new Error('the store gave no ETag for the upload');
      return { size: res.ContentLength ?? 0, version: res.ETag };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw storageError('head', err);
    }
  }

  async adopt(key: string, version: string): Promise<boolean> {
    try {
      // One request inside the bucket copies exactly one version of the upload: the one whose
      // ETag Ferry saw, or none (412) when a PUT replaced it since.
      const copy = new CopyObjectCommand({
        Bucket: this.bucket,
        Key: key,
        CopySource: `${this.bucket}/${this.uploadKey(key)}`,
        CopySourceIfMatch: version,
      });
      // Ceph RGW reads the condition from x-amz-copy-if-match and ignores S3's name for it
      // (tracker.ceph.com/issues/53945), so it gets both. Stores that honour neither still
      // serve nothing unchecked: Ferry checks the copy, not the upload.
      copy.middlewareStack.add(
        (next) => (args) => {
          const req = args.request as { headers?: Record<string, string> };
          if (req.headers) req.headers['x-amz-copy-if-match'] = version;
          return next(args);
        },
        { step: 'build', name: 'rgwCopyIfMatch' },
      );
      await this.client.send(copy);
      return true;
    } catch (err) {
      if (isPreconditionFailed(err) || isNotFound(err)) return false;
      throw storageError('copy', err);
    }
  }

  async deleteUploadsBefore(before: number): Promise<number> {
    let deleted = 0;
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: UPLOADS_PREFIX, ContinuationToken: token }));
      } catch (err) {
        throw storageError('list', err);
      }
      for (const o of page.Contents ?? []) {
        if (!o.Key || !o.LastModified || o.LastModified.getTime() >= before) continue;
        await this.delete(o.Key);
        deleted++;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }

  async abortStaleUploads(before: number): Promise<number> {
    let aborted = 0;
    for (const prefix of MULTIPART_PREFIXES) {
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      do {
        let page;
        try {
          page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
        } catch (err) {
          throw storageError('list uploads', err);
        }
        for (const u of page.Uploads ?? []) {
          if (!u.Key || !u.UploadId || !u.Initiated || u.Initiated.getTime() >= before) continue;
          try {
            await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }));
            aborted++;
          } catch (err) {
            // finished or aborted meanwhile (by the node writing it, or another janitor)
            if (!(err instanceof S3ServiceException && (err.name === 'NoSuchUpload' || err.$metadata.httpStatusCode === 404))) throw storageError('abort upload', err);
          }
        }
        const more = page.IsTruncated === true;
        keyMarker = more ? page.NextKeyMarker : undefined;
        uploadIdMarker = more ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
    }
    return aborted;
  }

  async ping(): Promise<void> {
    try {
      // One attempt, no SDK retries: readiness wants the store's answer now, not in 10 s.
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS) });
    } catch (err) {
      throw storageError(`access to bucket "${this.bucket}"`, err);
    }
  }

  async close(): Promise<void> {
    await fsp.rm(this.scratchDir, { recursive: true, force: true });
    this.client.destroy();
    if (this.signer !== this.client) this.signer.destroy();
  }
}
