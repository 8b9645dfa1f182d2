// AMR-NB storage format (RFC 4867 section 5): "#!AMR\n" then frames whose first byte names the
// mode and so the frame's size. Walking the frames checks that a file that starts like AMR is
// AMR all the way through (ffmpeg happily "decodes" junk into noise) and gives the duration
// without decoding anything.

const AMR_MAGIC = '#!AMR\n';
/** bytes after the header byte, by frame type 0–15; -1: a type that never appears in files */
const FRAME_BYTES = [12, 13, 15, 17, 19, 20, 26, 31, 5, -1, -1, -1, -1, -1, -1, 0];
const FRAME_MS = 20;

/** Duration in ms, or null when the bytes are not a well-formed AMR-NB file. */
export function amrDurationMs(bytes: Buffer): number | null {
  if (bytes.subarray(0, AMR_MAGIC.length).toString('latin1') !== AMR_MAGIC) return null;
  let pos = AMR_MAGIC.length;
  let frames = 0;
  while (pos < bytes.length) {
    const header = bytes[pos]!;
    // The padding bits (7, 1, 0) of the frame header are zero in every valid frame.
    if ((header & 0x83) !== 0) return null;
    const size = FRAME_BYTES[(header >> 3) & 0x0f]!;
    if (size < 0) return null;
    pos += 1 + size;
    frames++;
  }
  // A cut-off last frame is common in recordings; a file of only a header is not voice.
  if (frames === 0) return null;
  return frames * FRAME_MS;
}
