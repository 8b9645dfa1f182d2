// The Lanying file_type numbers and what each one means for limits and content checks.
import type { SizeLimits } from './config.ts';
import { badParam } from './errors.ts';

export type MediaKind = 'file' | 'voice-amr' | 'voice-mp3' | 'image' | 'video';

export interface FileTypeInfo {
  code: number;
  kind: MediaKind;
  /** 200–203 are a group's shared files: they only make sense sent to a group */
  groupOnly: boolean;
  limit: keyof SizeLimits;
}

const TABLE: Record<number, FileTypeInfo> = {
  100: { code: 100, kind: 'file', groupOnly: false, limit: 'file' },
  101: { code: 101, kind: 'voice-amr', groupOnly: false, limit: 'voice' },
  102: { code: 102, kind: 'image', groupOnly: false, limit: 'image' },
  103: { code: 103, kind: 'video', groupOnly: false, limit: 'video' },
  104: { code: 104, kind: 'voice-mp3', groupOnly: false, limit: 'voice' },
  200: { code: 200, kind: 'file', groupOnly: true, limit: 'file' },
  // Shared voice: the web SDK records AMR for voice, so shared voice follows 101.
  201: { code: 201, kind: 'voice-amr', groupOnly: true, limit: 'voice' },
  202: { code: 202, kind: 'image', groupOnly: true, limit: 'image' },
  203: { code: 203, kind: 'video', groupOnly: true, limit: 'video' },
};

/** Avatars are images; they get their own limit. */
export const AVATAR_TYPE: FileTypeInfo = { code: 0, kind: 'image', groupOnly: false, limit: 'avatar' };

export function parseFileType(raw: unknown): FileTypeInfo {
  if (raw === undefined || raw === '') throw badParam('file_type is required (100 file, 101 voice, 102 image, 103 video, 104 mp3 voice, 200–203 group shared)');
  const text = String(raw);
  if (text === '99') {
    throw badParam('file_type 99 is not a file type: group shared files are 200 (file), 201 (voice), 202 (image), 203 (video)');
  }
  const info = /^\d{3}$/.test(text) ? TABLE[Number(text)] : undefined;
  if (!info) throw badParam(`unknown file_type "${text.slice(0, 20)}": use 100–104 or 200–203`);
  return info;
}

export function fileTypeInfo(code: number): FileTypeInfo {
  return TABLE[code] ?? AVATAR_TYPE;
}

export type ToType = 1 | 2;

export function parseToType(raw: unknown): ToType {
  if (raw === undefined || raw === '') return 1;
  const text = String(raw);
  if (text === '1') return 1;
  if (text === '2') return 2;
  throw badParam(`to_type must be 1 (user) or 2 (group), got "${text.slice(0, 20)}"`);
}
