// Watches how fast an upload's body arrives and cuts it when the client goes silent
// (FERRY_UPLOAD_IDLE_TIMEOUT_MS) or trickles (under FERRY_UPLOAD_MIN_RATE averaged over
// FERRY_UPLOAD_RATE_WINDOW_MS). Without it a client that sends a few bytes and sleeps holds a
// connection, a claimed slot and a staging file for as long as it likes.
//
// It polls the socket's byte counter a few times per period instead of listening to 'data':
// a listener would put the request into flowing mode and add work to every chunk of every
// upload. Time in which Ferry itself is not reading (the socket is paused because the store
// is slower than the client) counts as progress: only the client's silence is judged.
import type { IncomingMessage } from 'node:http';
import type { UploadLimits } from '../config.ts';
import { Codes, FerryError } from '../errors.ts';

interface Sample {
  at: number;
  bytes: number;
}

/**
 * Start watching req's body. The returned signal aborts with a FerryError (60015) when the
 * upload is too slow; stop() ends the watch (call it when the upload is over, either way).
 */
export function watchUploadPace(req: IncomingMessage, limits: UploadLimits): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  const socket = req.socket;
  const { idleTimeoutMs, minBytesPerSecond, rateWindowMs } = limits;
  // Judged a few times per period, at most once a second: a cut comes at most a quarter of a
  // period (or a second) late.
  const tickMs = Math.max(25, Math.min(1000, Math.floor(idleTimeoutMs / 4), Math.floor(rateWindowMs / 4)));
  let lastBytes = socket.bytesRead;
  let lastActive = Date.now();
  /** bytes read at each tick since the window (re)started, oldest first */
  let samples: Sample[] = [{ at: lastActive, bytes: lastBytes }];

  const cut = (message: string) => {
    stop();
    controller.abort(new FerryError(Codes.UPLOAD_TOO_SLOW, message));
  };

  const timer = setInterval(() => {
    // The whole body is in: what follows (fsync, commit, probing) is Ferry's time, not the client's.
    if (req.complete || socket.destroyed) return stop();
    const now = Date.now();
    const bytes = socket.bytesRead;
    if (socket.isPaused()) {
      // Ferry is holding the client back; neither silence nor rate can be judged meanwhile.
      lastActive = now;
      lastBytes = bytes;
      samples = [{ at: now, bytes }];
      return;
    }
    if (bytes !== lastBytes) {
      lastBytes = bytes;
      lastActive = now;
    } else if (now - lastActive >= idleTimeoutMs) {
      return cut(`upload stalled: no data for ${((now - lastActive) / 1000).toFixed(1)} s; upload again`);
    }
    samples.push({ at: now, bytes });
    if (minBytesPerSecond === 0) {
      samples = samples.slice(-1);
      return;
    }
    // The newest sample at least a window old is where the average starts.
    let from = -1;
    for (let i = 0; i < samples.length && now - samples[i]!.at >= rateWindowMs; i++) from = i;
    if (from < 0) return;
    samples = samples.slice(from);
    const start = samples[0]!;
    const rate = ((bytes - start.bytes) * 1000) / (now - start.at);
    if (rate < minBytesPerSecond) {
      cut(`upload too slow: ${Math.floor(rate)} bytes/s over the last ${((now - start.at) / 1000).toFixed(1)} s, at least ${minBytesPerSecond} needed; upload again`);
    }
  }, tickMs);
  timer.unref();

  function stop(): void {
    clearInterval(timer);
  }
  return { signal: controller.signal, stop };
}
