// Video covers, voice transcoding and probing with Debian's ffmpeg. Every run reads only a
// local file (protocol whitelist: no http, no concat tricks pointing elsewhere), with the
// demuxer forced to what the upload was sniffed as, no stdin, and a hard timeout.
import { Codes, FerryError } from '../errors.ts';
import type { MediaConfig } from '../config.ts';
import type { Box } from './box.ts';
import { runTool, ToolError } from './run-tool.ts';
import { unreadable } from './images.ts';
import { demuxerOf } from '../content-types.ts';

const SAFE_INPUT = ['-protocol_whitelist', 'file', '-nostdin'] as const;
// ffprobe never reads stdin (and has no -nostdin); it is spawned with stdin closed.
const SAFE_PROBE = ['-protocol_whitelist', 'file'] as const;

export function demuxerFor(contentType: string): string | undefined {
  return demuxerOf(contentType);
}

interface MediaProbe {
  durationMs: number | null;
  width: number | null;
  height: number | null;
  hasVideo: boolean;
}

interface FfprobeJson {
  format?: { duration?: string };
  streams?: Array<{ codec_type?: string; width?: number; height?: number; duration?: string; side_data_list?: Array<{ rotation?: number }>; tags?: { rotate?: string } }>;
}

export async function probeMedia(input: string, contentType: string, timeoutMs: number): Promise<MediaProbe> {
  const demuxer = demuxerFor(contentType);
  if (!demuxer) throw unreadable(`${contentType} is not audio or video`);
  let json: FfprobeJson;
  try {
    const { stdout } = await runTool(
      'ffprobe',
      ['-v', 'error', ...SAFE_PROBE, '-f', demuxer, '-print_format', 'json', '-show_format', '-show_streams', input],
      { timeoutMs, what: 'reading the media header' },
    );
    json = JSON.parse(stdout) as FfprobeJson;
  } catch (err) {
    if (err instanceof FerryError) throw err;
    throw unreadable('cannot read the media header');
  }
  const video = json.streams?.find((s) => s.codec_type === 'video');
  const audio = json.streams?.find((s) => s.codec_type === 'audio');
  const seconds = Number(json.format?.duration ?? video?.duration ?? audio?.duration);
  let width = video?.width ?? null;
  let height = video?.height ?? null;
  // Phones store portrait video as landscape plus a rotation; clients want the shown size.
  const rotation = Math.abs(Number(video?.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? video?.tags?.rotate ?? 0));
  if (rotation === 90 || rotation === 270) [width, height] = [height, width];
  return {
    durationMs: Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : null,
    width,
    height,
    hasVideo: video !== undefined,
  };
}

/** How much of a video the cover is chosen from, and how densely it is sampled. */
const COVER_WINDOW_S = 10;
const COVER_SAMPLES_PER_S = 2;

/**
 * A representative frame as JPEG inside box. ffmpeg's thumbnail filter picks the sampled frame
 * closest to the average colour histogram of the first seconds, so a black or faded-in first
 * frame loses to the frames with content.
 */
export async function videoCover(input: string, contentType: string, output: string, box: Box, limits: Pick<MediaConfig, 'ffmpegTimeoutMs'>): Promise<void> {
  const demuxer = demuxerFor(contentType);
  if (!demuxer) throw unreadable(`${contentType} is not a video`);
  const filter = [
    `fps=${COVER_SAMPLES_PER_S}`,
    `thumbnail=${COVER_WINDOW_S * COVER_SAMPLES_PER_S}`,
    `scale=w='min(iw,${box.width})':h='min(ih,${box.height})':force_original_aspect_ratio=decrease`,
    // full-range 4:2:0, the pixel format every JPEG decoder takes
    'format=yuvj420p',
  ].join(',');
  try {
    await runTool(
      'ffmpeg',
      [
        '-v', 'error', ...SAFE_INPUT, '-xerror',
        '-t', String(COVER_WINDOW_S), '-f', demuxer, '-i', input,
        '-map', '0:v:0', '-an', '-sn', '-dn', '-map_metadata', '-1',
        '-vf', filter, '-frames:v', '1',
        '-fflags', '+bitexact', '-flags:v', '+bitexact', '-c:v', 'mjpeg', '-q:v', '3', '-f', 'image2', '-y', output,
      ],
      { timeoutMs: limits.ffmpegTimeoutMs, what: 'making the video cover' },
    );
  } catch (err) {
    if (err instanceof ToolError) throw unreadable('cannot decode a frame of the video');
    throw err;
  }
}

export type VoiceFormat = 'mp3' | 'amr';

/**
 * MP3 for browsers (mono 16 kHz, 32 kbit/s: more than AMR-NB's 8 kHz ever held) and AMR-NB
 * 12.2 kbit/s for native clients.
 */
export async function transcodeVoice(input: string, contentType: string, output: string, to: VoiceFormat, limits: Pick<MediaConfig, 'ffmpegTimeoutMs'>): Promise<void> {
  const demuxer = demuxerFor(contentType);
  if (!demuxer) throw unreadable(`${contentType} is not voice`);
  const codec =
    to === 'mp3'
      ? ['-ac', '1', '-ar', '16000', '-c:a', 'libmp3lame', '-b:a', '32k', '-f', 'mp3']
      : ['-ac', '1', '-ar', '8000', '-c:a', 'libopencore_amrnb', '-b:a', '12.2k', '-f', 'amr'];
  try {
    await runTool(
      'ffmpeg',
      ['-v', 'error', ...SAFE_INPUT, '-xerror', '-f', demuxer, '-i', input, '-map', '0:a:0', '-vn', '-map_metadata', '-1', '-fflags', '+bitexact', ...codec, '-y', output],
      { timeoutMs: limits.ffmpegTimeoutMs, what: `converting the voice to ${to}` },
    );
  } catch (err) {
    if (err instanceof ToolError) throw unreadable(`cannot convert this voice file to ${to}`);
    throw err;
  }
}

export function tooLargeVideo(width: number, height: number, maxPixels: number): FerryError {
  return new FerryError(Codes.MEDIA_TOO_LARGE, `video frames are ${width}×${height}; Ferry makes covers of videos up to ${maxPixels} pixels a frame`);
}
