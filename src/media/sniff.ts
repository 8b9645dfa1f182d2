// What a file really is, from its leading bytes, and whether that fits the file_type the client
// declared. Only these decoders' inputs are accepted as images, voice and video: an SVG, a
// script or an HTML page never passes as media.
import { fileTypeFromBuffer } from 'file-type';
import type { MediaKind } from '../file-types.ts';
import { typesOf } from '../content-types.ts';

/** file-type reads at most this much for the formats Ferry cares about. */
export const SNIFF_BYTES = 4100;

const ALLOWED: Record<Exclude<MediaKind, 'file'>, ReadonlySet<string>> = {
  image: typesOf('image'),
  video: typesOf('video'),
  'voice-amr': typesOf('voice-amr'),
  'voice-mp3': typesOf('voice-mp3'),
};

const KIND_NAMES: Record<Exclude<MediaKind, 'file'>, string> = {
  image: 'an image (JPEG, PNG, GIF, WebP, AVIF or HEIC)',
  video: 'a video (MP4, MOV, 3GP or WebM)',
  'voice-amr': 'AMR voice (starting with #!AMR)',
  'voice-mp3': 'MP3 voice',
};

type SniffResult = { ok: true; contentType: string } | { ok: false; expected: string };

export async function sniff(kind: MediaKind, head: Buffer): Promise<SniffResult> {
  const found = (await fileTypeFromBuffer(head))?.mime;
  if (kind === 'file') return { ok: true, contentType: found ?? 'application/octet-stream' };
  if (found !== undefined && ALLOWED[kind].has(found)) return { ok: true, contentType: found };
  // An ID3 tag with album art can be longer than the sniffed head; the tag itself is enough.
  if (kind === 'voice-mp3' && found === undefined && head.subarray(0, 3).toString('latin1') === 'ID3') {
    return { ok: true, contentType: 'audio/mpeg' };
  }
  return { ok: false, expected: KIND_NAMES[kind] };
}
