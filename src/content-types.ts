// The one table of the media types Ferry knows: what each is (image, video, voice), which
// extension it is served under, whether a browser may show it inline, and which ffmpeg demuxer
// reads it. Sniffing, serving, derivatives and probing all ask here, so a type added once is
// handled the same everywhere.

export type ContentClass = 'image' | 'video' | 'voice-amr' | 'voice-mp3';

interface TypeInfo {
  class: ContentClass;
  /** the extension it is served under */
  ext: string;
  /** other extensions that already name it (a name ending in one keeps it) */
  aliases?: readonly string[];
  /** browsers cannot show HEIC; served as an attachment */
  attachment?: true;
  /** ffmpeg's demuxer for it (video and voice), pinned so ffmpeg never guesses from content */
  demuxer?: string;
}

const TABLE: Record<string, TypeInfo> = {
  'image/jpeg': { class: 'image', ext: 'jpg', aliases: ['jpeg', 'jpe', 'jfif'] },
  'image/png': { class: 'image', ext: 'png' },
  'image/gif': { class: 'image', ext: 'gif' },
  'image/webp': { class: 'image', ext: 'webp' },
  'image/avif': { class: 'image', ext: 'avif' },
  'image/heic': { class: 'image', ext: 'heic', aliases: ['heif'], attachment: true },
  'image/heif': { class: 'image', ext: 'heif', aliases: ['heic'], attachment: true },
  'video/mp4': { class: 'video', ext: 'mp4', aliases: ['m4v'], demuxer: 'mov' },
  'video/quicktime': { class: 'video', ext: 'mov', aliases: ['qt'], demuxer: 'mov' },
  'video/x-m4v': { class: 'video', ext: 'm4v', aliases: ['mp4'], demuxer: 'mov' },
  'video/3gpp': { class: 'video', ext: '3gp', aliases: ['3gpp'], demuxer: 'mov' },
  'video/3gpp2': { class: 'video', ext: '3g2', aliases: ['3gp2'], demuxer: 'mov' },
  'video/webm': { class: 'video', ext: 'webm', demuxer: 'matroska' },
  'video/x-matroska': { class: 'video', ext: 'mkv', demuxer: 'matroska' },
  'audio/amr': { class: 'voice-amr', ext: 'amr', demuxer: 'amr' },
  'audio/mpeg': { class: 'voice-mp3', ext: 'mp3', demuxer: 'mp3' },
};

/** What Ferry names a plain-text file it sniffed as text (file-type does not report text). */
export const PLAIN_TEXT = 'text/plain; charset=utf-8';

export function classOf(contentType: string): ContentClass | undefined {
  return TABLE[contentType]?.class;
}

export function isClass(contentType: string, c: ContentClass): boolean {
  return TABLE[contentType]?.class === c;
}

/** Every known type of one class (the upload guard accepts exactly these for a file_type). */
export function typesOf(c: ContentClass): ReadonlySet<string> {
  return new Set(Object.keys(TABLE).filter((t) => TABLE[t]!.class === c));
}

/** The extension a file of this type is served under; undefined for types Ferry does not know. */
export function extensionOf(contentType: string): string | undefined {
  return contentType === PLAIN_TEXT ? 'txt' : TABLE[contentType]?.ext;
}

/** Every extension that names this type, the one it is served under first. */
export function extensionsOf(contentType: string): readonly string[] {
  const info = TABLE[contentType];
  if (contentType === PLAIN_TEXT) return ['txt'];
  return info ? [info.ext, ...(info.aliases ?? [])] : [];
}

export function demuxerOf(contentType: string): string | undefined {
  return TABLE[contentType]?.demuxer;
}

/**
 * Types a browser may render inline: the known media types (but HEIC) and plain text. Everything else is
 * served as an attachment, so an uploaded HTML or SVG file can never run script on Ferry's
 * origin (matrix-media-repo CVE-2023-41318).
 */
export function isInlineSafe(contentType: string): boolean {
  const info = TABLE[contentType];
  return contentType === PLAIN_TEXT || (info !== undefined && !info.attachment);
}
