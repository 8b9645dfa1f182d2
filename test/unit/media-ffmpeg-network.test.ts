// ffmpeg must never fetch anything: a playlist pointing at a local HTTP server, handed to every
// ffmpeg/ffprobe entry point under each content type Ferry accepts, is refused and the server
// sees no request. (Real ffmpeg, no mocks.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { probeMedia, transcodeVoice, videoCover } from '../../src/media/ffmpeg.ts';
import { FerryError } from '../../src/errors.ts';

test('ffmpeg and ffprobe never follow a playlist to the network', async () => {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits++;
    res.end('#EXTM3U\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-net-'));
  try {
    const playlist = path.join(dir, 'evil');
    fs.writeFileSync(playlist, `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:${port}/segment.ts\n#EXT-X-ENDLIST\n`);
    const out = path.join(dir, 'out');
    const limits = { ffmpegTimeoutMs: 10_000 };
    for (const type of ['video/mp4', 'video/webm', 'video/3gpp', 'audio/amr', 'audio/mpeg']) {
      await assert.rejects(probeMedia(playlist, type, 10_000), FerryError, type);
      if (type.startsWith('video/')) await assert.rejects(videoCover(playlist, type, out, { width: 400, height: 400 }, limits), FerryError, type);
      else await assert.rejects(transcodeVoice(playlist, type, out, type === 'audio/amr' ? 'mp3' : 'amr', limits), FerryError, type);
    }
    assert.equal(hits, 0);
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
