// FERRY_DOWNLOAD picks redirect or stream for every storage mode; FERRY_S3_DOWNLOAD, its older
// name, keeps working when FERRY_DOWNLOAD is unset; anything else is refused at start by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.ts';

test('redirect by default, as Lanying does', () => {
  assert.equal(loadConfig({}).download, 'redirect');
});

test('FERRY_DOWNLOAD chooses; FERRY_S3_DOWNLOAD still works alone; FERRY_DOWNLOAD wins over it', () => {
  assert.equal(loadConfig({ FERRY_DOWNLOAD: 'stream' }).download, 'stream');
  assert.equal(loadConfig({ FERRY_S3_DOWNLOAD: 'stream' }).download, 'stream');
  assert.equal(loadConfig({ FERRY_S3_DOWNLOAD: 'stream', FERRY_DOWNLOAD: 'redirect' }).download, 'redirect');
});

test('other values are refused at start, naming the setting', () => {
  assert.throws(() => loadConfig({ FERRY_DOWNLOAD: 'proxy' }), (e: unknown) => e instanceof ConfigError && /FERRY_DOWNLOAD must be redirect or stream/.test(e.message));
  assert.throws(() => loadConfig({ FERRY_S3_DOWNLOAD: 'yes' }), (e: unknown) => e instanceof ConfigError && /FERRY_S3_DOWNLOAD/.test(e.message));
  assert.throws(() => loadConfig({ FERRY_BLOB_URL_TTL_S: '5' }), ConfigError);
});

test('the settings are frozen once loaded', () => {
  const c = loadConfig({});
  assert.throws(() => {
    (c as { port: number }).port = 1;
  }, TypeError);
  assert.throws(() => {
    (c.s3 as { region: string }).region = 'x';
  }, TypeError);
});
