// A thumbnail or cover (image_type=2/3) of a deleted or quarantined file is asked for by an
// <img>, which cannot show the JSON envelope: it gets a small gray image instead, never cached,
// with the code in a header. The plain download (image_type=1) keeps the envelope.
import { deflateSync } from 'node:zlib';
import { Codes, FerryError } from '../errors.ts';
import type { MediaRequest } from './derivatives.ts';
import type { DownloadOutcome } from './download.ts';

const SIDE = 64;
const GRAY = 0xd9;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A SIDE×SIDE 8-bit grayscale PNG of one shade, built once. */
function grayPng(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(SIDE, 0);
  ihdr.writeUInt32BE(SIDE, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const row = Buffer.alloc(SIDE + 1, GRAY);
  row[0] = 0; // filter: none
  const raw = Buffer.concat(Array.from({ length: SIDE }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export const PLACEHOLDER_PNG = grayPng();

const TAKEN_BACK = new Set<number>([Codes.FILE_DELETED, Codes.FILE_QUARANTINED]);

/**
 * What a download that failed with err answers instead: for a preview of a file taken back, the
 * placeholder image; for anything else, err itself, thrown on. (A function of the error rather
 * than a wrapper around the download: every download would pay for the wrapper's closure.)
 */
export function placeholderOr(media: MediaRequest, err: unknown): DownloadOutcome {
  if (media.imageType === 1 || !(err instanceof FerryError) || !TAKEN_BACK.has(err.code)) throw err;
  return {
    kind: 'bytes',
    status: 200,
    headers: {
      'content-type': 'image/png',
      'content-length': String(PLACEHOLDER_PNG.length),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-ferry-code': String(err.code),
    },
    body: PLACEHOLDER_PNG,
  };
}
