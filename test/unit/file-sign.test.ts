// normalizeSign undoes what clients do to a file_sign on its way back: the web forward code
// re-encodes what follows "sign=", so a sign can arrive percent-encoded once or twice, and a
// copied URL tail may drag "&access-token=…" along. A sign that is already clean is untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normalizeSign } from '../../src/auth/file-sign.ts';

const SIGN = 'eyJhbGciOiJIUzI1NiJ9.eyJhcHAiOiJkbCIsImZpZCI6IngifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmVfLQ';
const percentAll = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('');

test('a clean sign is returned as is', () => {
  assert.equal(normalizeSign(SIGN), SIGN);
});

test('percent-encoded once or twice, it decodes back to the sign', () => {
  assert.equal(normalizeSign(percentAll(SIGN)), SIGN);
  assert.equal(normalizeSign(encodeURIComponent(percentAll(SIGN))), SIGN);
});

test('a dragged-along "&access-token=…&app_id=…" tail is cut off, encoded or not', () => {
  assert.equal(normalizeSign(`${SIGN}&access-token=abc&app_id=x`), SIGN);
  assert.equal(normalizeSign(encodeURIComponent(`${SIGN}&access-token=abc`)), SIGN);
});

test('surrounding whitespace is trimmed', () => {
  assert.equal(normalizeSign(`  ${SIGN}\n`), SIGN);
});

test('broken percent escapes do not throw; the text is left for verification to refuse', () => {
  assert.equal(normalizeSign('abc%E0%A4%A'), 'abc%E0%A4%A');
  assert.equal(normalizeSign('%'), '%');
});

test('property: base64url JWT-shaped signs are fixed points, and survive one or two rounds of percent-encoding', () => {
  const part = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 1, maxLength: 60 });
  fc.assert(
    fc.property(part, part, part, (a, b, c) => {
      const sign = `${a}.${b}.${c}`;
      assert.equal(normalizeSign(sign), sign);
      assert.equal(normalizeSign(encodeURIComponent(sign)), sign);
      assert.equal(normalizeSign(percentAll(sign)), sign);
      assert.equal(normalizeSign(encodeURIComponent(percentAll(sign))), sign);
    }),
  );
});

test('property: never throws, and never returns an "&"', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      assert.equal(normalizeSign(s).includes('&'), false);
    }),
  );
});
