// Streams a source of unknown length into S3 with bounded memory. S3 needs each part's length
// before its bytes, so parts have to be held somewhere until complete; holding them in memory
// (what @aws-sdk/lib-storage does) costs parts × part size per upload and, with garbage
// collection lagging behind, several times that in RSS under concurrent uploads. Here each part
// is spooled to a scratch file instead and uploaded from it while the next part is being
// written, so a node's memory stays flat however many uploads run and however large they are.
// A source that ends within the first part becomes one plain PUT.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';

interface SpoolTarget {
  client: S3Client;
  bucket: string;
  key: string;
  contentType: string;
  /** a folder only this process writes to */
  scratchDir: string;
  /** bytes per part (S3: at least 5 MiB except the last, at most 10 000 parts) */
  partSize: number;
  /** parts uploading at once while the next one is written */
  partsInFlight: number;
}

interface Part {
  file: string;
  handle: fsp.FileHandle;
  size: number;
}

/** Thrown for failures of the source itself, so the caller can tell them from the store's. */
export class SourceError extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

async function newPart(dir: string): Promise<Part> {
  const file = path.join(dir, randomBytes(12).toString('hex'));
  return { file, handle: await fsp.open(file, 'wx'), size: 0 };
}

async function dropPart(part: Part): Promise<void> {
  await part.handle.close().catch(() => {});
  await fsp.rm(part.file, { force: true });
}

export async function spoolToS3(t: SpoolTarget, source: Readable): Promise<void> {
  let part = await newPart(t.scratchDir);
  let nextPartNumber = 1;
  let uploadId: string | undefined;
  const done: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;

  const sendPart = async (p: Part, partNumber: number) => {
    try {
      await p.handle.close();
      const res = await t.client.send(
        new UploadPartCommand({
          Bucket: t.bucket,
          Key: t.key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: fs.createReadStream(p.file, { highWaterMark: 64 * 1024 }),
          ContentLength: p.size,
        }),
      );
      done.push({ ETag: res.ETag, PartNumber: partNumber });
    } finally {
      await fsp.rm(p.file, { force: true });
    }
  };

  const flush = async (p: Part) => {
    if (uploadId === undefined) {
      const created = await t.client.send(new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, ContentType: t.contentType }));
      uploadId = created.UploadId;
    }
    while (inFlight.size >= t.partsInFlight) await Promise.race(inFlight);
    if (failure) throw failure;
    const partNumber = nextPartNumber++;
    const run: Promise<void> = sendPart(p, partNumber).then(
      () => {
        inFlight.delete(run);
      },
      (err: unknown) => {
        inFlight.delete(run);
        failure ??= err;
      },
    );
    inFlight.add(run);
  };

  try {
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        let off = 0;
        while (off < chunk.length) {
          const n = Math.min(chunk.length - off, t.partSize - part.size);
          await part.handle.write(chunk, off, n);
          part.size += n;
          off += n;
          if (part.size === t.partSize) {
            const full = part;
            part = await newPart(t.scratchDir);
            await flush(full);
          }
        }
      }
    } catch (err) {
      if (failure) throw failure;
      throw new SourceError(err);
    }
    if (uploadId === undefined) {
      // Fits in one part: one PUT, no multipart bookkeeping.
      await part.handle.close();
      await t.client.send(
        new PutObjectCommand({
          Bucket: t.bucket,
          Key: t.key,
          ContentType: t.contentType,
          Body: fs.createReadStream(part.file, { highWaterMark: 64 * 1024 }),
          ContentLength: part.size,
        }),
      );
      await fsp.rm(part.file, { force: true });
      return;
    }
    if (part.size > 0) {
      await flush(part);
    } else {
      await dropPart(part);
    }
    while (inFlight.size > 0) await Promise.race(inFlight);
    if (failure) throw failure;
    done.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await t.client.send(
      new CompleteMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, UploadId: uploadId, MultipartUpload: { Parts: done } }),
    );
  } catch (err) {
    await Promise.allSettled(inFlight);
    await dropPart(part);
    if (uploadId !== undefined) {
      await t.client.send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, UploadId: uploadId })).catch(() => {});
    }
    throw err;
  }
}
