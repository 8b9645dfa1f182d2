// Paths fastify refuses before routing (broken percent-encoding, a parameter over the length
// limit) still get Lanying's envelope, and on the admin API its {error}: clients read the shape.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';

let f: TestFerry;
before(async () => {
  f = await startTestFerry();
});
after(() => f.close());

async function call(method: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${f.url}${path}`, { method, headers: { 'x-admin-key': f.adminKey } });
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

for (const path of ['/file/%zz', '/file/slot/%E0%A4%A', `/file/slot/${'A'.repeat(3000)}`, '/%']) {
  test(`${path.slice(0, 30)}: the envelope with 10002`, async () => {
    const r = await call('POST', path);
    assert.deepEqual(Object.keys(r.body).sort(), ['code', 'data', 'message']);
    assert.equal(r.body.code, 10002);
    assert.equal(r.body.data, null);
  });
}

for (const path of ['/admin/apps/%zz/tokens', `/admin/apps/${'a'.repeat(300)}/tokens`]) {
  test(`${path.slice(0, 30)}: {error} with a 4xx status`, async () => {
    const r = await call('POST', path);
    assert.ok(r.status >= 400 && r.status < 500, String(r.status));
    assert.deepEqual(Object.keys(r.body), ['error']);
    assert.equal(typeof r.body.error, 'string');
  });
}
