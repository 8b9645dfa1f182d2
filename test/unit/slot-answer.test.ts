// A slot's answer is written out by hand (src/http/slot-answer.ts), trusting that Ferry's own
// URLs need no JSON escaping (src/public-urls.ts keeps them to URL characters). It must be the
// very string JSON.stringify makes, for every URL Ferry can make and for anything else it is
// handed; and a public URL that would break the trust is refused at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { slotAnswerJson } from '../../src/http/slot-answer.ts';
import { PublicUrls } from '../../src/public-urls.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { Codes } from '../../src/errors.ts';

const URL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%";
const urlText = fc.string({ unit: fc.constantFrom(...URL_CHARS), minLength: 1, maxLength: 80 });
const token = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'), minLength: 1, maxLength: 300 });

test('property: for every URL Ferry can make, the answer is the string JSON.stringify makes', () => {
  fc.assert(
    fc.property(fc.constantFrom('http', 'https'), urlText, token, token, fc.boolean(), (scheme, rest, slot, sign, avatar) => {
      const urls = new PublicUrls(`${scheme}://${rest}`);
      const answer = {
        code: Codes.OK,
        message: null,
        data: { upload_url: urls.upload(slot), upload_method: 'POST', oss_body_param: {}, download_url: avatar ? urls.avatarDownload(sign) : urls.chatDownload(sign) },
      };
      assert.equal(slotAnswerJson(answer), JSON.stringify(answer));
    }),
    { numRuns: 500 },
  );
});

test("a direct upload's URL, which Ferry does not make, is escaped as JSON.stringify would", () => {
  const answer = {
    code: Codes.OK,
    message: null,
    data: { upload_url: 'https://bucket.example/k?x="\\\n\u2028', upload_method: 'PUT', oss_body_param: {}, download_url: 'http://f.example/file/download/chat?file_sign=a.b.c' },
  };
  assert.equal(slotAnswerJson(answer), JSON.stringify(answer));
  assert.deepEqual(JSON.parse(slotAnswerJson(answer)), answer);
});

test('anything else (an error envelope, an odd value) goes to JSON.stringify', () => {
  for (const other of [
    { code: 60003, message: 'file is too large: "x"', data: null },
    { code: Codes.OK, message: null, data: null },
    { code: Codes.OK, message: null, data: { upload_url: 1 } },
    null,
    'text',
  ]) {
    assert.equal(slotAnswerJson(other), JSON.stringify(other));
  }
});

test('a public URL with a character JSON would have to escape is refused: at start by name, and by PublicUrls itself', () => {
  for (const bad of ['https://files.example/a"b', 'https://files.example/a\\b', 'https://files.example/a b', 'https://fïles.example', 'https://files.example/\u2028']) {
    assert.throws(() => loadConfig({ FERRY_PUBLIC_URL: bad }), (e: unknown) => e instanceof ConfigError && /FERRY_PUBLIC_URL must be made of URL characters only/.test(e.message), bad);
    assert.throws(() => new PublicUrls(bad), RangeError, bad);
    const urls = new PublicUrls('https://files.example');
    assert.throws(() => {
      urls.base = bad;
    }, RangeError);
    assert.equal(urls.base, 'https://files.example', 'the old base stays');
  }
  assert.equal(loadConfig({ FERRY_PUBLIC_URL: 'https://[::1]:8443/ferry%20api/' }).publicUrl, 'https://[::1]:8443/ferry%20api');
});
