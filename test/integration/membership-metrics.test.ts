// The membership metrics (docs/operations.md): ferry_membership_lookups_total by where the answer
// came from, ferry_membership_asks_total by outcome and ferry_membership_ask_seconds, moved by
// exactly the right amounts by downloads of a group file through a real loopback IM server:
// a pushed member (the table), an unknown member (asked once), a non-member (asked twice),
// the IM server down (a known answer served stale; an unknown user refused 60040).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { withCreds, type Creds, type Envelope } from '../helpers/client.ts';
import { uploadChat } from '../helpers/jwt.ts';
import { startImServer, type FakeImServer } from '../helpers/im-server.ts';
import { parsePrometheus, valueOf, type Sample } from '../helpers/prometheus.ts';
import { Codes } from '../../src/errors.ts';

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  return parsePrometheus(await res.text()).samples;
}

/** The download's Lanying code: 200 for the bytes. */
async function download(url: string, creds: Creds): Promise<number> {
  const res = await fetch(withCreds(url, creds), { redirect: 'manual' });
  assert.ok(res.status < 500, `never a 5xx (got ${res.status})`);
  if (res.headers.get('content-type')?.startsWith('application/json')) return ((await res.json()) as Envelope).code;
  await res.arrayBuffer();
  return 200;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('membership metrics', () => {
  let im: FakeImServer;
  let f: TestFerry;
  let app: { appId: string; secret: string };
  const creds = async (u: string, role?: 'admin'): Promise<Creds> => ({ appId: app.appId, token: await f.token(app.appId, u, role ? { role } : {}) });

  before(async () => {
    im = await startImServer();
    f = await startTestFerry({ FERRY_MEMBERSHIP_URL: im.url, FERRY_MEMBERSHIP_TTL_S: '1', FERRY_MEMBERSHIP_STALE_S: '60', FERRY_MEMBERSHIP_TIMEOUT_MS: '300' });
    app = await f.createApp('memmetrics');
    im.secrets.set(app.appId, app.secret);
  });
  after(async () => {
    await f.close();
    await im.close();
  });

  test('the lookups and asks counters move by exactly the right amounts; the ask histogram counts every ask', async () => {
    const admin = await creds('99', 'admin');
    // Group 900: pushed to Ferry's table. Group 901: known only to the IM server.
    const push = await f.admin('PUT', `/admin/apps/${app.appId}/groups/900/members`, { members: [{ user_id: '1', role: 'owner' }, { user_id: '2' }] });
    assert.equal(push.status, 200, JSON.stringify(push.body));
    im.join('901', '1', { role: 'owner' });
    im.join('901', '3');
    const pushed = await uploadChat(f.url, admin, { to_id: '900', to_type: 2 });
    const asked = await uploadChat(f.url, admin, { to_id: '901', to_type: 2 });
    const asksBefore = im.asks.length;
    let before = await scrape(f.url);
    const delta = (after: Sample[], name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);

    // A pushed member: Ferry's table answers, nobody is asked.
    assert.equal(await download(pushed, await creds('2')), 200);
    let after = await scrape(f.url);
    assert.equal(delta(after, 'ferry_membership_lookups_total', { result: 'table' }), 1);
    assert.equal(delta(after, 'ferry_membership_lookups_total'), 1);
    assert.equal(delta(after, 'ferry_membership_asks_total'), 0);
    assert.equal(im.asks.length, asksBefore);

    // An unknown member: asked once, served, the answer kept.
    before = after;
    assert.equal(await download(asked, await creds('3')), 200);
    after = await scrape(f.url);
    assert.equal(delta(after, 'ferry_membership_lookups_total', { result: 'asked' }), 1);
    assert.equal(delta(after, 'ferry_membership_lookups_total'), 1);
    assert.equal(delta(after, 'ferry_membership_asks_total', { outcome: 'member' }), 1);
    assert.equal(delta(after, 'ferry_membership_asks_total'), 1);
    assert.equal(delta(after, 'ferry_membership_ask_seconds_count'), 1);
    assert.ok(delta(after, 'ferry_membership_ask_seconds_sum') > 0, 'the ask took some time');
    assert.equal(im.asks.length, asksBefore + 1);

    // A non-member: a "no" is asked twice before the refusal, one lookup.
    before = after;
    assert.equal(await download(asked, await creds('4')), Codes.NO_PERMISSION);
    after = await scrape(f.url);
    assert.equal(delta(after, 'ferry_membership_lookups_total', { result: 'asked' }), 1);
    assert.equal(delta(after, 'ferry_membership_lookups_total'), 1);
    assert.equal(delta(after, 'ferry_membership_asks_total', { outcome: 'not_member' }), 2);
    assert.equal(delta(after, 'ferry_membership_ask_seconds_count'), 2);
    assert.equal(im.asks.length, asksBefore + 3);

    // The IM server down: user 3's answer (past the 1 s TTL) is served stale; user 5, never
    // asked about, gets 60040. Each costs one failed ask.
    im.behaviour = 'error500';
    await sleep(1100);
    before = await scrape(f.url);
    assert.equal(await download(asked, await creds('3')), 200);
    assert.equal(await download(asked, await creds('5')), Codes.MEMBERSHIP_UNAVAILABLE);
    after = await scrape(f.url);
    assert.equal(delta(after, 'ferry_membership_lookups_total', { result: 'stale' }), 1);
    assert.equal(delta(after, 'ferry_membership_lookups_total', { result: 'unavailable' }), 1);
    assert.equal(delta(after, 'ferry_membership_lookups_total'), 2);
    assert.equal(delta(after, 'ferry_membership_asks_total', { outcome: 'unavailable' }), 2);
    assert.equal(delta(after, 'ferry_membership_asks_total'), 2);
    assert.equal(delta(after, 'ferry_membership_ask_seconds_count'), 2);
    im.behaviour = 'answer';
  });

  test("a second read within the node's half second is a hit; downloads sharing one ask each count a lookup", async () => {
    const admin = await creds('99', 'admin');
    im.join('902', '1', { role: 'owner' });
    im.join('902', '6');
    const url = await uploadChat(f.url, admin, { to_id: '902', to_type: 2 });
    const c = await creds('6');
    const before = await scrape(f.url);
    const codes = await Promise.all(Array.from({ length: 10 }, () => download(url, c)));
    assert.deepEqual(codes, Array(10).fill(200));
    // Straight after: this node's copy (kept half a second) answers. A loaded machine may take
    // longer than that between the two, so retry until one lands within the half second.
    let hits = 0;
    for (let i = 0; i < 5 && hits === 0; i++) {
      const mid = await scrape(f.url);
      assert.equal(await download(url, c), 200);
      const now = await scrape(f.url);
      hits = valueOf(now, 'ferry_membership_lookups_total', { result: 'hit' }) - valueOf(mid, 'ferry_membership_lookups_total', { result: 'hit' });
    }
    assert.equal(hits, 1);
    const after = await scrape(f.url);
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    assert.equal(delta('ferry_membership_asks_total'), 1, 'one ask for ten simultaneous downloads');
    assert.ok(delta('ferry_membership_lookups_total') >= 11, 'every download counts one lookup');
    assert.equal(im.asksFor('902', '6'), 1);
  });
});
