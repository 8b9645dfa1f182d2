// FileReadStream (src/bytes/local/file-read-stream.ts) reuses two buffers when it is piped into
// an HTTP response. These tests pipe it into a real node:http response on loopback, read by a
// real client, and check every byte: whole files and ranges across chunk edges, a client that
// reads slowly (the writes wait on the socket, which is where a reused buffer would be written
// over too early), a client that leaves (the file is closed), a file shorter than asked for, and
// a consumer that keeps its chunks (it must get buffers of its own).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo } from 'node:net';
import { FileReadStream } from '../../src/bytes/local/file-read-stream.ts';
import { StorageError } from '../../src/storage-error.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let file: string;
let bytes: Buffer;
let server: http.Server;
let base: string;
/** every stream the server made, in order */
const made: FileReadStream[] = [];

before(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ferry-frs-'));
  file = path.join(dir, 'object');
  // More than loopback's socket buffers take in while a client is not reading (about 4 MiB
  // here), so the slow client's test makes the server's writes wait.
  bytes = randomBytes(12 * MiB + 17);
  await fsp.writeFile(file, bytes);
  // GET /?start=&last=&pretend= : those bytes of the file, piped the way fastify pipes a body.
  server = http.createServer((req, res) => {
    const q = new URL(req.url!, 'http://x').searchParams;
    const start = Number(q.get('start') ?? 0);
    const last = Number(q.get('last') ?? bytes.length - 1);
    void fsp.open(file).then((fh) => {
      const body = new FileReadStream(fh, start, last, 'object');
      made.push(body);
      body.on('error', () => res.destroy());
      res.setHeader('content-length', String(last - start + 1));
      body.pipe(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await fsp.rm(dir, { recursive: true, force: true });
});

/** The whole answer, read as it comes or slowly (a pause after every chunk). */
function get(query: string, opts: { slow?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http
      .get(base + query, (res) => {
        const chunks: Buffer[] = [];
        // A slow client first lets the socket's buffers fill, so the server's writes must wait.
        if (opts.slow) {
          res.pause();
          setTimeout(() => res.resume(), 150);
        }
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          if (opts.slow) {
            res.pause();
            setTimeout(() => res.resume(), 2);
          }
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

const closedOf = (s: FileReadStream) => (s.closed ? Promise.resolve() : new Promise<void>((resolve) => s.once('close', () => resolve())));

describe('FileReadStream piped into a response', () => {
  it('sends the whole file and every range exactly, across chunk edges', async () => {
    assert.equal(sha(await get('')), sha(bytes));
    for (const [start, last] of [
      [0, MiB - 1],
      [512 * KiB - 1, 2 * MiB + 1],
      [100, MiB + 99],
      [bytes.length - MiB - 5, bytes.length - 1],
    ] as const) {
      const got = await get(`?start=${start}&last=${last}`);
      assert.equal(got.length, last - start + 1, `${start}-${last}`);
      assert.equal(sha(got), sha(bytes.subarray(start, last + 1)), `${start}-${last}`);
    }
  });

  it('keeps every byte right when the client reads slowly', async () => {
    const got = await get('', { slow: true });
    assert.equal(got.length, bytes.length);
    assert.equal(sha(got), sha(bytes));
  });

  it('serves many at once, each its own bytes', async () => {
    const ranges = Array.from({ length: 8 }, (_, i) => [i * 250 * KiB, i * 250 * KiB + MiB + i] as const);
    const got = await Promise.all(ranges.map(([s, l], i) => get(`?start=${s}&last=${l}`, { slow: i % 2 === 0 })));
    got.forEach((g, i) => assert.equal(sha(g), sha(bytes.subarray(ranges[i]![0], ranges[i]![1] + 1)), `range ${i}`));
  });

  it('closes the file when the client leaves halfway', async () => {
    const before = made.length;
    await new Promise<void>((resolve, reject) => {
      const req = http.get(base, (res) => {
        let got = 0;
        res.on('data', (c: Buffer) => {
          got += c.length;
          if (got > MiB) req.destroy();
        });
        res.on('close', () => resolve());
      });
      req.on('error', () => resolve());
      req.setTimeout(10_000, () => reject(new Error('the answer never stopped')));
    });
    const stream = made[before]!;
    await closedOf(stream);
    assert.equal(stream.destroyed, true);
  });

  it('fails, and closes the file, when the file is shorter than the bytes asked for', async () => {
    const before = made.length;
    const last = bytes.length + MiB;
    await assert.rejects(get(`?start=0&last=${last}`), 'the client sees the answer break off');
    const stream = made[before]!;
    await closedOf(stream);
    assert.ok(stream.errored instanceof StorageError, String(stream.errored));
    assert.match(stream.errored.message, /shorter than its record/);
  });
});

describe('FileReadStream read any other way', () => {
  it('gives a consumer that keeps its chunks buffers of its own', async () => {
    const kept: Buffer[] = [];
    const collector = new Writable({
      write(chunk: Buffer, _enc, cb) {
        kept.push(chunk);
        cb();
      },
    });
    const fh = await fsp.open(file);
    await pipeline(new FileReadStream(fh, 0, bytes.length - 1, 'object'), collector);
    assert.ok(kept.length >= 6, `${kept.length} chunks`);
    assert.equal(sha(Buffer.concat(kept)), sha(bytes));
  });

  it('reads a range with for-await and closes the file at the end', async () => {
    const fh = await fsp.open(file);
    const s = new FileReadStream(fh, 7, 2 * MiB + 6, 'object');
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c as Buffer);
    assert.equal(sha(Buffer.concat(chunks)), sha(bytes.subarray(7, 2 * MiB + 7)));
    await closedOf(s);
    // a closed handle refuses further reads
    await assert.rejects(fh.read(Buffer.alloc(1), 0, 1, 0));
    assert.ok(fs.existsSync(file));
  });
});
