// Width, height and duration of an MP4/MOV/3GP from its header boxes, read within a small fixed
// budget. The moov box of a long video (or of a hostile upload) can be tens of MiB; only a few
// tiny boxes inside it matter: mvhd (duration), and per track tkhd (picture size and rotation),
// mdhd (track duration) and hdlr (video or sound). So box headers are walked with small ranged
// reads and only those boxes are read, never the whole moov (a small moov is read in one go,
// which is one request instead of dozens against S3).

/** Reads len bytes at pos (fewer only at the end of the data). */
export type RangeReader = (pos: number, len: number) => Promise<Buffer>;

export interface Mp4Info {
  width: number | null;
  height: number | null;
  durationMs: number | null;
}

/** A moov up to this size is read whole: typical phone clips have a moov of a few KiB. */
const READ_WHOLE_MOOV = 256 * 1024;
/** Boxes looked at per level: real files have a handful; a crafted one gets no more than this. */
const MAX_BOXES = 64;
const MAX_TRACKS = 16;
/** mvhd, tkhd, mdhd and hdlr need fewer bytes than this (their version 1 forms included). */
const LEAF_BYTES = 128;

interface BoxHead {
  type: string;
  /** where the box's payload starts and ends (end exclusive) */
  start: number;
  end: number;
}

async function* boxes(read: RangeReader, from: number, to: number): AsyncGenerator<BoxHead> {
  let pos = from;
  for (let n = 0; n < MAX_BOXES && pos + 8 <= to; n++) {
    const head = await read(pos, 16);
    if (head.length < 8) return;
    let size = head.readUInt32BE(0);
    const type = head.subarray(4, 8).toString('latin1');
    let headLen = 8;
    if (size === 1) {
      if (head.length < 16) return;
      const big = head.readBigUInt64BE(8);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) return;
      size = Number(big);
      headLen = 16;
    } else if (size === 0) {
      size = to - pos;
    }
    if (size < headLen || pos + size > to) return;
    yield { type, start: pos + headLen, end: pos + size };
    pos += size;
  }
}

async function find(read: RangeReader, from: number, to: number, type: string): Promise<BoxHead | null> {
  for await (const b of boxes(read, from, to)) if (b.type === type) return b;
  return null;
}

const leaf = (read: RangeReader, b: BoxHead) => read(b.start, Math.min(LEAF_BYTES, b.end - b.start));

/** timescale and duration of an mvhd or mdhd payload (same layout up to duration). */
function timed(p: Buffer): { timescale: number; duration: number } | null {
  const v1 = p[0] === 1;
  if (p.length < (v1 ? 32 : 20)) return null;
  const timescale = p.readUInt32BE(v1 ? 20 : 12);
  const duration = v1 ? Number(p.readBigUInt64BE(24)) : p.readUInt32BE(16);
  // All ones means "unknown" in both versions.
  if (timescale === 0 || duration === 0 || duration === 0xffffffff || duration >= Number.MAX_SAFE_INTEGER) return null;
  return { timescale, duration };
}

const ms = (t: { timescale: number; duration: number } | null) => (t ? Math.round((t.duration / t.timescale) * 1000) : null);

/** Shown size from a tkhd payload: 16.16 width and height, swapped when the matrix turns by 90°. */
function shownSize(p: Buffer): { width: number; height: number } | null {
  const v1 = p[0] === 1;
  const len = v1 ? 96 : 84;
  if (p.length < len) return null;
  let width = p.readUInt32BE(len - 8) >>> 16;
  let height = p.readUInt32BE(len - 4) >>> 16;
  if (width === 0 || height === 0) return null;
  const matrix = len - 8 - 36;
  const a = p.readInt32BE(matrix);
  const b = p.readInt32BE(matrix + 4);
  // Phones store portrait video as landscape plus a quarter turn (a = d = 0); clients want the shown size.
  if (a === 0 && b !== 0) [width, height] = [height, width];
  return { width, height };
}

function bufferReader(buf: Buffer, base: number): RangeReader {
  return async (pos, len) => buf.subarray(pos - base, pos - base + len);
}

export async function readMp4Info(read: RangeReader, size: number): Promise<Mp4Info | null> {
  const moov = await find(read, 0, size, 'moov');
  if (!moov) return null;
  let r = read;
  if (moov.end - moov.start <= READ_WHOLE_MOOV) r = bufferReader(await read(moov.start, moov.end - moov.start), moov.start);

  let movie: number | null = null;
  let longestTrack: number | null = null;
  let picture: { width: number; height: number } | null = null;
  let anySize: { width: number; height: number } | null = null;
  let tracks = 0;
  for await (const b of boxes(r, moov.start, moov.end)) {
    if (b.type === 'mvhd') movie = ms(timed(await leaf(r, b)));
    if (b.type !== 'trak' || ++tracks > MAX_TRACKS) continue;
    let size: { width: number; height: number } | null = null;
    let handler: string | null = null;
    for await (const t of boxes(r, b.start, b.end)) {
      if (t.type === 'tkhd') size = shownSize(await leaf(r, t));
      if (t.type !== 'mdia') continue;
      for await (const m of boxes(r, t.start, t.end)) {
        if (m.type === 'mdhd') {
          const d = ms(timed(await leaf(r, m)));
          if (d !== null) longestTrack = Math.max(longestTrack ?? 0, d);
        }
        if (m.type === 'hdlr') handler = (await leaf(r, m)).subarray(8, 12).toString('latin1');
      }
    }
    if (size && handler === 'vide' && !picture) picture = size;
    if (size && !anySize) anySize = size;
  }
  const shown = picture ?? anySize;
  return { width: shown?.width ?? null, height: shown?.height ?? null, durationMs: movie ?? longestTrack };
}
