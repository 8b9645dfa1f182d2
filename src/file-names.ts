// The name a downloaded file carries in Content-Disposition. It is only ever a display name (the
// storage key is Ferry's own), but browsers and file managers act on it: an invisible bidi
// override turns "‮gpj.exe" into what reads as "exe.jpg", and a name ending in ".html" on an
// inline JPEG invites a save-as that opens as a page. So names lose every invisible or
// reordering character at upload, and are served with the extension of the type Ferry serves.
import { extensionsOf } from './content-types.ts';

/**
 * Control and format characters: C0 and C1 controls and DEL (Cc), bidi embeddings, overrides,
 * isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C), zero-width
 * characters, the BOM, soft hyphen and tag characters (all Cf), the line and paragraph
 * separators (Zl, Zp), and lone surrogate halves (Cs), which no header can encode.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}"]/gu;

/** Keep a display name for Content-Disposition: no paths, no control characters, bounded. */
export function cleanFileName(name: string | null): string | null {
  if (!name) return null;
  const base = name.split(/[\\/]/).pop()!.replace(INVISIBLE, '').trim();
  if (!base || base === '.' || base === '..' || base === 'undefined' || base === 'blob') return null;
  // Cut by code points: half a surrogate pair would make the name unencodable in the header.
  return Array.from(base).slice(0, 200).join('');
}

/**
 * The name a file is served under: its cleaned upload name, ending in the extension of the
 * type Ferry serves it as. A JPEG uploaded as "x.html" is served as "x.jpg"; "photo.JPG" and
 * "clip.jpeg" stay as they are. Types without a known extension keep the name unchanged.
 */
export function servedFileName(name: string | null, contentType: string): string {
  const exts = extensionsOf(contentType);
  if (exts.length === 0) return name ?? 'file';
  if (!name) return `file.${exts[0]}`;
  const m = /^(.+)\.([^.]*)$/.exec(name);
  if (m && exts.includes(m[2]!.toLowerCase())) return name;
  return `${m ? m[1] : name}.${exts[0]}`;
}
