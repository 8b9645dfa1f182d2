// SHA-256 of a stream, computed either on the calling thread or on one hashing thread shared by
// the whole process. Hashing a big upload costs the event loop about half a millisecond per MiB
// (SHA-256 runs at about 2 GiB/s here): a 256 MiB file is 130 ms of CPU that every other request
// of the process waits behind. On the thread, the event loop only copies each chunk into a
// window of two buffers (memcpy is several times faster than hashing) and moves on; the thread
// hashes them and gives the buffers back. When both buffers are still being hashed, update()
// says so, and the caller waits: the bytes in flight per stream stay at the window's size.
//
// The copy is needed: a chunk read from a socket lives in memory the thread cannot see, and
// transferring it would take it from the writer that still has to store it. Where the process
// has one core to run on, the thread would only take turns with the event loop on it and add the
// copy, so callers hash in place there (see `hashThreadHelps`).
import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface Sha256 {
  /** Add bytes. undefined when they were taken; a promise when the caller should wait for room before adding more. */
  update(chunk: Uint8Array): Promise<void> | undefined;
  /** The hex digest of everything added. Call once, after the last update has been taken. */
  digest(): Promise<string>;
  /** Forget the stream (it failed): no digest will be asked for. */
  drop(): void;
}

/** Hashing on the calling thread. */
export function inlineSha256(): Sha256 {
  const hash: Hash = createHash('sha256');
  return {
    update(chunk) {
      hash.update(chunk);
      return undefined;
    },
    digest: () => Promise.resolve(hash.digest('hex')),
    drop() {},
  };
}

/** True when this process may run on more than one core, so a hashing thread runs beside the event loop. */
export function hashThreadHelps(): boolean {
  return availableParallelism() > 1;
}

/** How many streams are on the hashing thread now (each holds a window of buffers). */
export function threadStreams(): number {
  return shared?.openStreams() ?? 0;
}

/** Hashing on the process's hashing thread. */
export function threadSha256(): Sha256 {
  return new ThreadSha256(hashThread());
}

/** Each stream's window: two buffers of this size, one being filled while the other is hashed. */
export const WINDOW_BUFFER_BYTES = 512 * 1024;
const WINDOW_BUFFERS = 2;

// The thread's code: plain JavaScript run from a string, so the same file works under the
// TypeScript loader of the tests and in the bundle `npm start` runs. Messages carry a stream id:
// 'u' hashes a buffer's first `len` bytes and hands the buffer back, 'd' answers the digest and
// forgets the stream, 'x' forgets it.
const THREAD_CODE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const streams = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'u') {
    let h = streams.get(m.id);
    if (h === undefined) streams.set(m.id, (h = createHash('sha256')));
    h.update(new Uint8Array(m.buf, 0, m.len));
    parentPort.postMessage({ id: m.id, buf: m.buf }, [m.buf]);
  } else if (m.op === 'd') {
    const h = streams.get(m.id) ?? createHash('sha256');
    streams.delete(m.id);
    parentPort.postMessage({ id: m.id, hex: h.digest('hex') });
  } else if (m.op === 'x') {
    streams.delete(m.id);
  } else if (m.op === 'n') {
    parentPort.postMessage({ id: m.id, open: streams.size });
  }
});
`;

type FromThread = { id: number; buf: ArrayBuffer } | { id: number; hex: string } | { id: number; open: number };

/** The process's hashing thread and the streams it hashes, by id. */
class HashThread {
  private readonly worker: Worker;
  private readonly streams = new Map<number, ThreadSha256>();
  private readonly probes = new Map<number, (open: number) => void>();
  private nextId = 1;
  private idle: NodeJS.Timeout | null = null;

  constructor(private readonly onStop: (t: HashThread) => void) {
    // No flags from the process (a TypeScript loader, --input-type=module): the code is plain CommonJS.
    this.worker = new Worker(THREAD_CODE, { eval: true, name: 'ferry-sha256', execArgv: [] });
    this.worker.on('message', (m: FromThread) => this.receive(m));
    // A thread that failed is replaced by the next stream; the streams it held fail.
    const stop = (err: Error) => {
      if (this.idle !== null) clearTimeout(this.idle);
      onStop(this);
      for (const s of this.streams.values()) s.fail(err);
      this.streams.clear();
      for (const probe of this.probes.values()) probe(-1);
      this.probes.clear();
    };
    this.worker.on('error', (err) => stop(new Error(`the hashing thread failed: ${err.message}`, { cause: err })));
    this.worker.on('exit', (code) => stop(new Error(`the hashing thread stopped (exit code ${code})`)));
    this.worker.unref(); // after the listeners: adding one refs the thread again
  }

  open(s: ThreadSha256): number {
    const id = this.nextId++;
    this.streams.set(id, s);
    this.holdProcess();
    return id;
  }

  openStreams(): number {
    return this.streams.size;
  }

  close(id: number): void {
    this.streams.delete(id);
    this.holdProcess();
  }

  /**
   * While a stream waits for the thread, the process stays up for it; an idle thread holds
   * nothing, and after idleMs without a stream it stops and gives its memory back (about
   * 11 MB): the next big upload starts a new one.
   */
  private holdProcess(): void {
    if (this.idle !== null) clearTimeout(this.idle);
    this.idle = null;
    if (this.streams.size + this.probes.size > 0) {
      this.worker.ref();
      return;
    }
    this.worker.unref();
    this.idle = setTimeout(() => {
      // Out of use at once, so no stream opens on a thread that is on its way out.
      this.onStop(this);
      void this.stop();
    }, idleMs);
    this.idle.unref();
  }

  post(message: { op: 'u'; id: number; buf: ArrayBuffer; len: number } | { op: 'd' | 'x' | 'n'; id: number }): void {
    this.worker.postMessage(message, message.op === 'u' ? [message.buf] : []);
  }

  /** How many streams the thread holds state for (tests: a failed stream leaves none behind). */
  openOnThread(): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.probes.set(id, resolve);
      this.holdProcess();
      this.post({ op: 'n', id });
    });
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }

  /** Milliseconds the thread has been busy (hashing) since it started. */
  busyMs(): number {
    return this.worker.performance.eventLoopUtilization().active;
  }

  private receive(m: FromThread): void {
    if ('open' in m) {
      this.probes.get(m.id)?.(m.open);
      this.probes.delete(m.id);
      this.holdProcess();
      return;
    }
    const s = this.streams.get(m.id);
    if (s === undefined) return; // dropped while its buffer was on the thread
    if ('buf' in m) s.returned(m.buf);
    else {
      this.close(m.id);
      s.digested(m.hex);
    }
  }
}

let shared: HashThread | null = null;

/** A hashing thread with no stream for this long stops. */
export const HASH_THREAD_IDLE_MS = 60_000;
let idleMs = HASH_THREAD_IDLE_MS;

/** For tests: how long an idle hashing thread lives (from the next time it becomes idle). */
export function setHashThreadIdleMs(ms: number): void {
  idleMs = ms;
}

function hashThread(): HashThread {
  return (shared ??= new HashThread((stopped) => {
    if (shared === stopped) shared = null;
  }));
}

/** Stop the hashing thread (streams on it fail); the next stream starts a new one. */
export async function stopHashThread(): Promise<void> {
  await shared?.stop();
}

/** For tests: the hashing thread's state, or null when it has not started. */
export async function hashThreadState(): Promise<{ openStreams: number; busyMs: number } | null> {
  if (shared === null) return null;
  return { openStreams: await shared.openOnThread(), busyMs: shared.busyMs() };
}

class ThreadSha256 implements Sha256 {
  private readonly id: number;
  private readonly free: ArrayBuffer[] = [];
  private allocated = 0;
  private filling: Uint8Array | null = null;
  private filled = 0;
  private room: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private result: { resolve: (hex: string) => void; reject: (err: Error) => void } | null = null;
  private failed: Error | null = null;

  constructor(private readonly thread: HashThread) {
    this.id = thread.open(this);
  }

  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failed) return Promise.reject(this.failed);
    let at = 0;
    while (at < chunk.length) {
      if (this.filling === null) {
        const buf = this.free.pop() ?? (this.allocated < WINDOW_BUFFERS ? this.allocate() : null);
        if (buf === null) return this.afterRoom(chunk.subarray(at));
        this.filling = new Uint8Array(buf);
        this.filled = 0;
      }
      const n = Math.min(chunk.length - at, this.filling.length - this.filled);
      this.filling.set(chunk.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.filling.length) this.send();
    }
    return undefined;
  }

  digest(): Promise<string> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.filling !== null && this.filled > 0) this.send();
    return new Promise((resolve, reject) => {
      this.result = { resolve, reject };
      this.thread.post({ op: 'd', id: this.id });
    });
  }

  drop(): void {
    if (this.failed) return;
    this.fail(new Error('the hash was dropped'));
    this.thread.close(this.id);
    this.thread.post({ op: 'x', id: this.id });
  }

  /** A buffer came back from the thread, hashed. */
  returned(buf: ArrayBuffer): void {
    this.free.push(buf);
    const room = this.room;
    this.room = null;
    room?.resolve();
  }

  digested(hex: string): void {
    // Done: a later update or digest is refused, and a late drop (a guard destroyed after its
    // digest was read) has nothing to forget and posts nothing.
    this.failed = new Error('the hash was already digested');
    this.result?.resolve(hex);
    this.result = null;
  }

  fail(err: Error): void {
    this.failed = err;
    this.room?.reject(err);
    this.result?.reject(err);
    this.room = null;
    this.result = null;
  }

  private allocate(): ArrayBuffer {
    this.allocated++;
    return new ArrayBuffer(WINDOW_BUFFER_BYTES);
  }

  private send(): void {
    const buf = this.filling!.buffer as ArrayBuffer;
    const len = this.filled;
    this.filling = null;
    this.filled = 0;
    this.thread.post({ op: 'u', id: this.id, buf, len });
  }

  /** Both buffers are on the thread: take the rest of the chunk once one comes back. */
  private async afterRoom(rest: Uint8Array): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.room = { resolve, reject };
    });
    await this.update(rest);
  }
}
