// The settings that bound hostile clients: defaults when unset, and a bad value stops Ferry at
// start with a ConfigError that names the setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.ts';

test('defaults: 30 s idle, 1 KiB/s over 60 s, 10 uploads per user, 10000 connections', () => {
  const c = loadConfig({});
  assert.deepEqual(c.uploadLimits, { idleTimeoutMs: 30_000, minBytesPerSecond: 1024, rateWindowMs: 60_000, perUser: 10 });
  assert.equal(c.maxConnections, 10_000);
});

test('set from the environment; a minimum rate of 0 turns the rate check off', () => {
  const c = loadConfig({
    FERRY_UPLOAD_IDLE_TIMEOUT_MS: '1500',
    FERRY_UPLOAD_MIN_RATE: '0',
    FERRY_UPLOAD_RATE_WINDOW_MS: '2500',
    FERRY_UPLOADS_PER_USER: '2',
    FERRY_MAX_CONNECTIONS: '64',
  });
  assert.deepEqual(c.uploadLimits, { idleTimeoutMs: 1500, minBytesPerSecond: 0, rateWindowMs: 2500, perUser: 2 });
  assert.equal(c.maxConnections, 64);
  assert.equal(loadConfig({ FERRY_UPLOAD_MIN_RATE: '4K' }).uploadLimits.minBytesPerSecond, 4096);
});

test('a bad value is a ConfigError naming the setting', () => {
  const bad: Record<string, string[]> = {
    FERRY_UPLOAD_IDLE_TIMEOUT_MS: ['0', '99', '600001', '30s', '-1'],
    FERRY_UPLOAD_MIN_RATE: ['fast', '1.5K', '-1'],
    FERRY_UPLOAD_RATE_WINDOW_MS: ['0', '1m', '3600001'],
    FERRY_UPLOADS_PER_USER: ['0', 'many'],
    FERRY_MAX_CONNECTIONS: ['0', '1000001', 'lots'],
  };
  for (const [name, values] of Object.entries(bad)) {
    for (const value of values) {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (err: unknown) => err instanceof ConfigError && err.message.includes(name),
        `${name}=${value}`,
      );
    }
  }
});
