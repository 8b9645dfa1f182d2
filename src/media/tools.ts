// What every media job shares: the limits from config, one work queue sized to the cores (image
// decodes and ffmpeg runs alike), and a private scratch folder for intermediate files.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import type { MediaConfig } from '../config.ts';
import { WorkQueue } from '../primitives/work-queue.ts';
import { diskStorageError, StorageError } from '../storage-error.ts';

// libvips' operation cache keeps decoded pixels around for repeated identical calls, which
// Ferry never makes (each derivative is made once), so it would only hold memory.
sharp.cache(false);

export class MediaTools {
  readonly queue: WorkQueue;
  readonly scratch: string;
  /** how many derivatives this process has made (tests and operators check reuse with it) */
  readonly stats = { derivativesMade: 0 };

  constructor(
    readonly config: MediaConfig,
    dataDir: string,
    /** false in a worker: its primary emptied the scratch folder, and other workers use it now */
    opts: { sweep?: boolean } = {},
  ) {
    this.queue = new WorkQueue(config.concurrency, config.maxQueued);
    this.scratch = path.join(dataDir, 'media-tmp');
    // Left over from a previous run that died mid-job: nothing else writes here. Emptied, not
    // removed, so the folder may be a mount of its own (a fast local disk or a tmpfs).
    fs.mkdirSync(this.scratch, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.scratch, 0o700);
    if (opts.sweep ?? true) for (const entry of fs.readdirSync(this.scratch)) fs.rmSync(path.join(this.scratch, entry), { recursive: true, force: true });
  }

  /** A fresh private folder for one job; removed by the returned cleanup. */
  async workdir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
    const dir = path.join(this.scratch, randomBytes(9).toString('hex'));
    try {
      await fsp.mkdir(dir, { mode: 0o700 });
    } catch (err) {
      throw this.scratchError(err) ?? err;
    }
    return { dir, cleanup: () => fsp.rm(dir, { recursive: true, force: true }) };
  }

  /** A disk failure (full, read-only) in the scratch folder as a StorageError naming it; else null. */
  scratchError(err: unknown): StorageError | null {
    return diskStorageError(err, `media scratch folder ${this.scratch}`, 'scratch');
  }
}
