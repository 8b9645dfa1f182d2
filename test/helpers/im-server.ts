// A real loopback HTTP server playing the operator's IM server for membership questions
// (GET ?app_id=&group_id=&user_id=, signed). It checks Ferry's signature, counts every ask and
// can be told to answer, stall, fail, or talk nonsense.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';

export type ImBehaviour = 'answer' | 'slow' | 'garbage' | 'error500' | 'reset';

export interface FakeImServer {
  url: string;
  /** group → user → {role, joined_at} */
  members: Map<string, Map<string, { role?: string; joined_at?: number }>>;
  behaviour: ImBehaviour;
  asks: Array<{ appId: string; groupId: string; userId: string; signed: boolean }>;
  /** the app secrets it knows, to check signatures */
  secrets: Map<string, string>;
  join(groupId: string, userId: string, extra?: { role?: string; joined_at?: number }): void;
  leave(groupId: string, userId: string): void;
  asksFor(groupId: string, userId: string): number;
  close(): Promise<void>;
}

export async function startImServer(): Promise<FakeImServer> {
  const state: Omit<FakeImServer, 'url' | 'close'> = {
    members: new Map(),
    behaviour: 'answer',
    asks: [],
    secrets: new Map(),
    join(g, u, extra = {}) {
      if (!this.members.has(g)) this.members.set(g, new Map());
      this.members.get(g)!.set(u, extra);
    },
    leave(g, u) {
      this.members.get(g)?.delete(u);
    },
    asksFor(g, u) {
      return this.asks.filter((a) => a.groupId === g && a.userId === u).length;
    },
  };
  const server = http.createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const appId = q.get('app_id') ?? '';
    const groupId = q.get('group_id') ?? '';
    const userId = q.get('user_id') ?? '';
    const ts = String(req.headers['x-ferry-timestamp'] ?? '');
    const secret = state.secrets.get(appId) ?? '';
    const want = `sha256=${createHmac('sha256', secret).update(`${appId}\n${groupId}\n${userId}\n${ts}`).digest('hex')}`;
    const signed = req.headers['x-ferry-signature'] === want;
    state.asks.push({ appId, groupId, userId, signed });
    switch (state.behaviour) {
      case 'slow':
        setTimeout(() => res.end('{"member":true}'), 10_000).unref();
        return;
      case 'garbage':
        res.setHeader('content-type', 'application/json');
        return res.end('{"member": "perhaps"');
      case 'error500':
        res.statusCode = 500;
        return res.end('{"error":"boom"}');
      case 'reset':
        req.socket.destroy();
        return;
      default: {
        if (!signed) {
          res.statusCode = 401;
          return res.end('{"error":"bad signature"}');
        }
        const m = state.members.get(groupId)?.get(userId);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(m ? { member: true, ...m } : { member: false }));
      }
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/ferry/membership`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}

/** POST /hooks/events as the IM server does (or with a signature of the caller's choosing). */
export async function sendEvents(
  base: string,
  appId: string,
  secret: string,
  body: unknown,
  opts: { signature?: string | null } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const sig = opts.signature === undefined ? `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}` : opts.signature;
  const res = await fetch(`${base}/hooks/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', app_id: appId, ...(sig === null ? {} : { 'x-ferry-signature': sig }) },
    body: raw,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
