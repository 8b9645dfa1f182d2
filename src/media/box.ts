// The sizes Ferry makes. Requests are snapped up to a small fixed set so that any number of
// different w/h values map onto a handful of stored derivatives per file.

export interface Box {
  width: number;
  height: number;
}

/** Every box side Ferry produces; w and h are rounded up to the next one. */
export const BOX_SIZES = [100, 200, 400, 800, 1200, 1600, 2048] as const;
const MAX_BOX = 2048;
/** A chat bubble's thumbnail when the client names no size. */
export const DEFAULT_THUMBNAIL_BOX: Box = { width: 400, height: 400 };
/** A cover (video poster frame, or an image's large preview) when the client names no size. */
export const DEFAULT_COVER_BOX: Box = { width: 800, height: 800 };

export function snapSide(px: number): number {
  for (const s of BOX_SIZES) if (px <= s) return s;
  return MAX_BOX;
}

/** With one side given, the box is square; with neither, the default for the variant. */
export function boxFor(w: number | undefined, h: number | undefined, fallback: Box): Box {
  if (w === undefined && h === undefined) return fallback;
  const width = snapSide(w ?? h!);
  const height = snapSide(h ?? w!);
  return { width, height };
}
