// Pooled random ids: URL-safe, the right length, and never repeated (bytes are used once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomId } from '../../src/random-id.ts';

test('ids are base64url of the asked length and do not repeat across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = randomId(16);
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(!seen.has(id), 'an id came back twice');
    seen.add(id);
  }
  assert.match(randomId(24), /^[A-Za-z0-9_-]{32}$/);
});
