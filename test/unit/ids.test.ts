// canonicalId: every positive int64, however a client spells it, becomes one exact decimal
// string; nothing else becomes an id. Properties over the whole int64 range, then the spellings
// real clients send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalId, parseId, parseOptionalId } from '../../src/ids.ts';
import { Codes, FerryError } from '../../src/errors.ts';

const INT64_MAX = 9223372036854775807n;
const positiveInt64 = fc.bigInt({ min: 1n, max: INT64_MAX });

test('every positive int64 comes back as its own decimal string, from a string or a bigint', () => {
  fc.assert(
    fc.property(positiveInt64, (n) => {
      assert.equal(canonicalId(n.toString()), n.toString());
      assert.equal(canonicalId(n), n.toString());
    }),
  );
});

test('canonical ids are fixed points: canonicalId(canonicalId(x)) === canonicalId(x)', () => {
  fc.assert(
    fc.property(fc.oneof(positiveInt64.map(String), fc.string(), fc.stringMatching(/^\s*\+?0*\d{1,21}\s*$/)), (x) => {
      const once = canonicalId(x);
      if (once !== null) assert.equal(canonicalId(once), once);
    }),
  );
});

test('distinct int64 values never share a canonical id (no rounding through doubles)', () => {
  fc.assert(
    fc.property(positiveInt64, positiveInt64, (a, b) => {
      fc.pre(a !== b);
      assert.notEqual(canonicalId(a.toString()), canonicalId(b.toString()));
    }),
  );
});

test('zero, negatives and values above 2^63-1 are not ids', () => {
  fc.assert(
    fc.property(fc.oneof(fc.bigInt({ min: -(2n ** 70n), max: 0n }), fc.bigInt({ min: INT64_MAX + 1n, max: 2n ** 80n })), (n) => {
      assert.equal(canonicalId(n.toString()), null);
      assert.equal(canonicalId(n), null);
    }),
  );
});

test('safe integer numbers are accepted as JSON numbers; unsafe or fractional numbers are not', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n) => {
      assert.equal(canonicalId(n), String(n));
    }),
  );
  fc.assert(
    fc.property(fc.double({ noNaN: false }), (d) => {
      if (!Number.isSafeInteger(d) || d < 1) assert.equal(canonicalId(d), null);
    }),
  );
  // 2^53 + 1 cannot even be written as a number: what arrives is 2^53, which must not pass as exact.
  assert.equal(canonicalId(2 ** 53), null);
  assert.equal(canonicalId(2 ** 60), null);
});

test('strings with anything but optional blanks, one "+" and ASCII digits are not ids', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 30 }), (s) => {
      fc.pre(!/^\s*\+?\d+\s*$/.test(s));
      assert.equal(canonicalId(s), null);
    }),
  );
});

test('more than 19 digits is never an id, even with leading zeros', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^\d{20,40}$/), (s) => {
      assert.equal(canonicalId(s), null);
    }),
  );
});

test('the spellings clients send', () => {
  const cases: [unknown, string | null][] = [
    ['1', '1'],
    ['9007199254740993', '9007199254740993'],
    ['9223372036854775807', '9223372036854775807'],
    ['9223372036854775808', null],
    ['18446744073709551615', null],
    ['12345678901234567890', null],
    ['0', null],
    ['-1', null],
    ['abc', null],
    ['', null],
    ['  42 ', '42'],
    ['+42', '42'],
    ['007', '7'],
    ['1.0', null],
    ['1e3', null],
    ['0x1f', null],
    ['1_000', null],
    ['١٢', null],
    ['12abc', null],
    [' ', null],
    [42, '42'],
    [0, null],
    [-5, null],
    [1.5, null],
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
    [9223372036854775807n, '9223372036854775807'],
    [0n, null],
    [null, null],
    [undefined, null],
    [true, null],
    [{}, null],
    [['5'], null],
  ];
  for (const [input, expected] of cases) assert.equal(canonicalId(input), expected, `canonicalId(${JSON.stringify(String(input))})`);
});

test('parseId: missing is 10002 "is required", bad is 10002 naming the parameter', () => {
  for (const missing of [undefined, null, '']) {
    assert.throws(
      () => parseId('to_id', missing),
      (err: unknown) => err instanceof FerryError && err.code === Codes.BAD_PARAM && /to_id is required/.test(err.message),
    );
  }
  for (const bad of ['0', 'abc', '9223372036854775808', '-3']) {
    assert.throws(
      () => parseId('group_id', bad),
      (err: unknown) => err instanceof FerryError && err.code === Codes.BAD_PARAM && /group_id/.test(err.message),
    );
  }
  assert.equal(parseId('to_id', '9223372036854775807'), '9223372036854775807');
  // The echo of a bad value in the message is bounded.
  assert.throws(
    () => parseId('to_id', 'x'.repeat(500)),
    (err: unknown) => err instanceof FerryError && err.message.length < 200,
  );
});

test('parseOptionalId: absent or empty is undefined; present values must be ids', () => {
  assert.equal(parseOptionalId('user_id', undefined), undefined);
  assert.equal(parseOptionalId('user_id', ''), undefined);
  assert.equal(parseOptionalId('user_id', '9007199254740993'), '9007199254740993');
  assert.throws(() => parseOptionalId('user_id', '0'), FerryError);
});
