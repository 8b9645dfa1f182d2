// Bounds how much media work runs at once and how much may wait. Decoding an image or running
// ffmpeg costs a core and real memory; letting every request start one is how peers fall over
// under a burst. Work beyond the running slots waits in line; when the line is full too, the
// request is refused at once instead of piling up memory and latency.
import { Codes, FerryError } from '../errors.ts';

export class WorkQueue {
  private running = 0;
  /** the most jobs ever running at once (operators and tests check the bound with it) */
  peak = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly slots: number,
    readonly maxWaiting: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.slots) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new FerryError(Codes.MEDIA_BUSY, 'media work queue is full: try again in a moment');
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    this.peak = Math.max(this.peak, this.running);
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next in line, so running never dips below a waiter.
      if (next) next();
      else this.running--;
    }
  }
}
