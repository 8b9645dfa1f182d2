// A loopback HTTP server playing the operator's IM server for Ferry's membership questions
// (GET ?app_id=&group_id=&user_id=, signed as docs/membership.md says): everyone is a member.
// It counts every ask per (group, user) and checks each carries Ferry's valid signature, so a
// benchmark can assert how many questions Ferry sent, not guess it.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BenchImServer {
  url: string;
  /** the app secret the signatures are checked with */
  secret: string;
  /** asks per "group\nuser" */
  asks: Map<string, number>;
  total: number;
  unsigned: number;
  /** when the first and the last ask arrived (ms) */
  firstAt: number;
  lastAt: number;
  reset(): void;
  stop(): Promise<void>;
}

export async function startImServer(): Promise<BenchImServer> {
  const state = {
    secret: '',
    asks: new Map<string, number>(),
    total: 0,
    unsigned: 0,
    firstAt: 0,
    lastAt: 0,
    reset() {
      this.asks.clear();
      this.total = 0;
      this.unsigned = 0;
      this.firstAt = 0;
      this.lastAt = 0;
    },
  };
  const server = http.createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const [appId, groupId, userId] = [q.get('app_id') ?? '', q.get('group_id') ?? '', q.get('user_id') ?? ''];
    const ts = String(req.headers['x-ferry-timestamp'] ?? '');
    const want = `sha256=${createHmac('sha256', state.secret).update(`${appId}\n${groupId}\n${userId}\n${ts}`).digest('hex')}`;
    const now = Date.now();
    state.firstAt ||= now;
    state.lastAt = now;
    state.total++;
    if (req.headers['x-ferry-signature'] !== want) state.unsigned++;
    const key = `${groupId}\n${userId}`;
    state.asks.set(key, (state.asks.get(key) ?? 0) + 1);
    res.setHeader('content-type', 'application/json');
    res.end('{"member":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/ferry/membership`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}
