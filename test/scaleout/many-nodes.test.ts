// Many Ferry nodes on one PostgreSQL database and one bucket: whatever node a load balancer
// picks, files uploaded through one are downloadable, thumbnailed and forwardable through the
// others; a burst of requests for one thumbnail makes it once across all nodes; and a node that
// dies mid-upload loses nothing acknowledged and leaves nothing half-visible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import sharp from 'sharp';
import { api, getJson, putRaw, withCreds, chatSlot, type Creds, type Envelope } from '../helpers/client.ts';
import { uploadChat, fileIdOf } from '../helpers/media.ts';
import { signOf } from '../helpers/jwt.ts';
import { sweepExpiredSlots } from '../../src/janitor.ts';
import { onNode, spawnNode, startCluster } from './cluster.ts';
import { eventually } from '../helpers/eventually.ts';

const photo = (w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 30, g: 120, b: 200 } } })
    .composite([{ input: Buffer.from(`<svg width="${w}" height="${h}"><circle cx="${w / 2}" cy="${h / 2}" r="${h / 3}" fill="orange"/></svg>`) }])
    .jpeg({ quality: 90 })
    .toBuffer();

async function fetchVia(url: string, init: RequestInit = {}): Promise<{ status: number; location: string | null; headers: Headers; body: Buffer }> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  return { status: res.status, location: res.headers.get('location'), headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

test('upload via one node; download, thumbnail and forward via the other (302 to presigned URLs)', async () => {
  const c = await startCluster(2, { FERRY_DOWNLOAD: 'redirect' });
  try {
    const [a, b] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    const { appId } = await a.createApp('multi');
    const u = async (id: string): Promise<Creds> => ({ appId, token: await b.token(appId, id) });
    const [u1, u2, u3] = [await u('1001'), await u('1002'), await u('1003')];
    const bytes = await photo(1200, 900);
    const slot = await uploadChat(a.url, u1, 102, bytes, '1002', 'photo.jpg');

    const viaB = await fetchVia(onNode(withCreds(slot.download_url, u2), b));
    assert.equal(viaB.status, 302);
    assert.ok(viaB.location?.startsWith(c.env.FERRY_S3_ENDPOINT!), `redirected to the store: ${viaB.location}`);
    assert.match(viaB.headers.get('cache-control') ?? '', /^private, max-age=\d+$/);
    assert.equal(viaB.body.length, 0, 'no body on the redirect');
    const fromStore = await fetch(viaB.location!);
    assert.equal(fromStore.status, 200);
    assert.equal(fromStore.headers.get('content-type'), 'image/jpeg');
    assert.match(fromStore.headers.get('content-disposition') ?? '', /^inline; filename="photo\.jpg"/);
    assert.deepEqual(Buffer.from(await fromStore.arrayBuffer()), bytes);
    // The same signed URL from either node for a while, so a browser's cached copy is reused.
    const viaA = await fetchVia(onNode(withCreds(slot.download_url, u2), a));
    assert.equal(viaA.location, viaB.location);

    // Ranges follow the redirect (the store serves them).
    const ranged = await fetch(viaB.location!, { headers: { range: 'bytes=0-9' } });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), bytes.subarray(0, 10));
    // Mini-programs may only fetch from whitelisted domains: they are streamed, never redirected.
    const mini = await fetchVia(onNode(withCreds(slot.download_url, u2, '&source=miniprogram'), b));
    assert.equal(mini.status, 200);
    assert.deepEqual(mini.body, bytes);
    // HEAD stays with Ferry: a presigned GET cannot answer it.
    const head = await fetchVia(onNode(withCreds(slot.download_url, u2), b), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(bytes.length));

    // Access is still decided by Ferry before any URL is handed out.
    const stranger = await getJson(onNode(withCreds(slot.download_url, u3), b));
    assert.equal(stranger.body.code, 10010);

    const thumb = await fetchVia(onNode(withCreds(slot.download_url, u2, '&image_type=2'), b));
    assert.equal(thumb.status, 302);
    const thumbBytes = Buffer.from(await (await fetch(thumb.location!)).arrayBuffer());
    const meta = await sharp(thumbBytes).metadata();
    assert.ok(meta.width! < 1200 && meta.height! < 900, `a smaller picture: ${meta.width}x${meta.height}`);

    const fwd = await api<string>(b.url, '/file/upload/forward', { file_sign: signOf(slot.download_url), to_id: '1003', to_type: 1 }, u2);
    assert.equal(fwd.body.code, 200, JSON.stringify(fwd.body));
    const forwarded = await fetchVia(onNode(withCreds(fwd.body.data, u3), a));
    assert.equal(forwarded.status, 302);
    assert.deepEqual(Buffer.from(await (await fetch(forwarded.location!)).arrayBuffer()), bytes);
    assert.equal((await c.inspect.objectKeys()).filter((k) => k.startsWith('files/')).length, 1, 'forwarding copied no bytes');
  } finally {
    await c.close();
  }
});

test('20 concurrent requests for one thumbnail, spread over both nodes, make one derivative', async () => {
  const c = await startCluster(2);
  try {
    const [a, b] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    const { appId } = await a.createApp('burst');
    const u1 = { appId, token: await a.token(appId, '1001') };
    const u2 = { appId, token: await a.token(appId, '1002') };
    const bytes = await photo(3000, 2000);
    const slot = await uploadChat(a.url, u1, 102, bytes, '1002', 'big.jpg');
    const made = () => a.ferry.services.media.stats.derivativesMade + b.ferry.services.media.stats.derivativesMade;
    const before = made();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => fetchVia(onNode(withCreds(slot.download_url, u2, '&image_type=2'), i % 2 ? b : a))),
    );
    for (const r of answers) {
      assert.equal(r.status, 200, r.body.subarray(0, 200).toString());
      assert.equal(r.headers.get('content-type'), 'image/jpeg');
      assert.deepEqual(r.body, answers[0]!.body, 'every request got the same thumbnail');
    }
    assert.equal(made() - before, 1, 'one derivative made across both nodes');
    const derived = (await c.inspect.objectKeys()).filter((k) => k.startsWith(`derived/${fileIdOf(slot)}/`));
    assert.equal(derived.length, 1, `one derivative object: ${derived.join(', ')}`);
  } finally {
    await c.close();
  }
});

/** A raw PUT whose body the test feeds itself. */
function slowPut(url: string, total: number) {
  const req = http.request(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': total } });
  const outcome = new Promise<{ status: number; body: Envelope } | { error: Error }>((resolve) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (ch: Buffer) => chunks.push(ch));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope }));
      res.on('error', (error) => resolve({ error }));
    });
    req.on('error', (error) => resolve({ error }));
  });
  return {
    outcome,
    write: (chunk: Buffer) => new Promise<void>((resolve, reject) => req.write(chunk, (err) => (err ? reject(err) : resolve()))),
  };
}


test('a node killed mid-upload loses nothing acknowledged and leaves nothing half-visible', { timeout: 120_000 }, async () => {
  const c = await startCluster(1);
  const a = c.nodes[0]!;
  const doomed = await spawnNode(c.env);
  try {
    const { appId } = await a.createApp('crash');
    const u1 = { appId, token: await a.token(appId, '1001') };
    const u2 = { appId, token: await a.token(appId, '1002') };
    // Acknowledged by the node that is about to die.
    const kept = Buffer.from('acknowledged before the crash\n'.repeat(20000));
    const keptSlot = await chatSlot(doomed.url, u1, { file_type: 100, to_id: '1002', to_type: 1 });
    assert.deepEqual((await putRaw(keptSlot.upload_url, kept)).body, { code: 200, message: null, data: true });

    // Half of a 24 MiB upload reaches the dying node, enough for parts to be in the bucket.
    const slot = await chatSlot(doomed.url, u1, { file_type: 100, to_id: '1002', to_type: 1 });
    const put = slowPut(slot.upload_url, 24 * 1024 * 1024);
    for (let i = 0; i < 12; i++) await put.write(Buffer.alloc(1024 * 1024, i));
    const slotId = slot.upload_url.split('/').pop()!;
    await eventually(async () => {
      assert.equal((await c.inspect.fileBySlot(slotId))?.status, 'uploading');
      assert.ok((await c.inspect.stagedUploads()).length > 0, 'parts are in the bucket');
    }, 300, 50);
    await doomed.kill();
    assert.ok('error' in (await put.outcome), 'the client saw its connection die');

    // Through the surviving node: the acknowledged file is whole, the cut one is nowhere.
    const got = await fetch(onNode(withCreds(keptSlot.download_url, u2), a));
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), kept);
    const row = await c.inspect.fileBySlot(slotId);
    assert.notEqual(row?.status, 'ready');
    assert.equal(await c.inspect.readObject(row!.storage_key), null, 'no object under the cut upload key');
    assert.equal((await getJson(onNode(withCreds(slot.download_url, u2), a))).body.code, 60002);
    // The dead node's claim holds until it is stale; then the janitor forgets the slot.
    assert.equal((await putRaw(onNode(slot.upload_url, a), Buffer.from('retry'))).body.code, 60007);
    await sweepExpiredSlots(a.ferry.services, Date.now() + 8 * 24 * 3600 * 1000);
    assert.equal(await c.inspect.fileBySlot(slotId), undefined);
    const keys = await c.inspect.objectKeys();
    assert.deepEqual(keys, [(await c.inspect.fileBySlot(keptSlot.upload_url.split('/').pop()!))!.storage_key]);
  } finally {
    await doomed.kill();
    await c.close();
  }
});

test('four nodes starting at once on an empty database migrate it once and all serve', async () => {
  const { provision } = await import('../helpers/storage-mode.ts');
  const { startTestFerry } = await import('../helpers/ferry.ts');
  const { scaleOutEnv } = await import('./cluster.ts');
  const pg = (await import('pg')).default;
  const mode = await provision(scaleOutEnv());
  const nodes = await Promise.allSettled(Array.from({ length: 4 }, () => startTestFerry(mode.env)));
  try {
    for (const n of nodes) assert.equal(n.status, 'fulfilled', n.status === 'rejected' ? String(n.reason) : '');
    const up = nodes.map((n) => (n as PromiseFulfilledResult<Awaited<ReturnType<typeof startTestFerry>>>).value);
    const { appId } = await up[0]!.createApp('together');
    const u1 = { appId, token: await up[1]!.token(appId, '1001') };
    const slot = await chatSlot(up[2]!.url, u1, { file_type: 100, to_id: '1002', to_type: 1 });
    assert.equal((await putRaw(onNode(slot.upload_url, up[3]!), Buffer.from('hello from four nodes'))).body.code, 200);
    const client = new pg.Client({ connectionString: mode.env.FERRY_DATABASE_URL });
    await client.connect();
    try {
      const names = (await client.query<{ name: string }>('select name from kysely_migration order by name')).rows.map((r) => r.name);
      assert.equal(new Set(names).size, names.length, 'each migration ran once');
      assert.ok(names.includes('0001_initial') && names.includes('0003_leases'), names.join(', '));
    } finally {
      await client.end();
    }
  } finally {
    await Promise.allSettled(nodes.map((n) => (n.status === 'fulfilled' ? n.value.close() : Promise.resolve())));
    await mode.release();
  }
});
