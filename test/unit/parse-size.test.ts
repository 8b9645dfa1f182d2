// parseSize reads the FERRY_MAX_*_SIZE settings: plain bytes or binary K/M/G units, so an
// operator's "64K" means 65536. Anything else must stop Ferry at start with a clear message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError, DEFAULT_LIMITS, loadConfig, parseSize } from '../../src/config.ts';

test('plain bytes and binary units, in any case, with optional i/B', () => {
  assert.equal(parseSize('X', '1048576'), 1048576);
  assert.equal(parseSize('X', '0'), 0);
  assert.equal(parseSize('X', '64K'), 64 * 1024);
  assert.equal(parseSize('X', '64k'), 64 * 1024);
  assert.equal(parseSize('X', '512KiB'), 512 * 1024);
  assert.equal(parseSize('X', '100M'), 100 * 1024 * 1024);
  assert.equal(parseSize('X', '100MB'), 100 * 1024 * 1024);
  assert.equal(parseSize('X', '2G'), 2 * 1024 ** 3);
  assert.equal(parseSize('X', '2gib'), 2 * 1024 ** 3);
  assert.equal(parseSize('X', ' 10 M '), 10 * 1024 * 1024);
});

test('anything else is a ConfigError naming the setting and the value', () => {
  for (const bad of ['', 'abc', '1.5M', '-1', '10T', 'M', '10 MiBs', '0x10', '1e6']) {
    assert.throws(
      () => parseSize('FERRY_MAX_FILE_SIZE', bad),
      (err: unknown) => err instanceof ConfigError && err.message.includes('FERRY_MAX_FILE_SIZE') && err.message.includes(`"${bad}"`),
      bad,
    );
  }
});

test('the limits reach the config per file type, and default when unset', () => {
  const c = loadConfig({ FERRY_MAX_FILE_SIZE: '64K', FERRY_MAX_VOICE_SIZE: '16K' });
  assert.equal(c.limits.file, 64 * 1024);
  assert.equal(c.limits.voice, 16 * 1024);
  assert.equal(c.limits.image, DEFAULT_LIMITS.image);
  assert.equal(c.limits.video, DEFAULT_LIMITS.video);
  assert.equal(c.limits.avatar, DEFAULT_LIMITS.avatar);
  assert.throws(() => loadConfig({ FERRY_MAX_IMAGE_SIZE: 'lots' }), ConfigError);
});

test('property: n with a unit is n times that unit', () => {
  const units = { '': 1, K: 1024, KB: 1024, KiB: 1024, M: 1024 ** 2, MB: 1024 ** 2, MiB: 1024 ** 2, G: 1024 ** 3, GB: 1024 ** 3, GiB: 1024 ** 3 };
  fc.assert(
    fc.property(fc.nat(1_000_000), fc.constantFrom(...Object.keys(units)), fc.boolean(), (n, unit, lower) => {
      const text = `${n}${lower ? unit.toLowerCase() : unit}`;
      assert.equal(parseSize('X', text), n * units[unit as keyof typeof units]);
    }),
  );
});
