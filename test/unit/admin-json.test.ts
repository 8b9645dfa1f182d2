// parseAdminJson: the admin API's body parser reads integer literals of 16 digits or more as
// strings so int64 ids keep every digit, and otherwise parses exactly as JSON.parse does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAdminJson } from '../../src/http/routes/admin.ts';

const INT64_MAX = 9223372036854775807n;

test('an empty or blank body is an empty object', () => {
  assert.deepEqual(parseAdminJson(''), {});
  assert.deepEqual(parseAdminJson('  \n\t'), {});
});

test('int64 ids given as JSON numbers keep every digit', () => {
  assert.deepEqual(parseAdminJson('{"user_id": 9223372036854775807}'), { user_id: '9223372036854775807' });
  assert.deepEqual(parseAdminJson('{"user_id":9007199254740993,"role":"admin"}'), { user_id: '9007199254740993', role: 'admin' });
  assert.deepEqual(parseAdminJson('{\n  "owner_id" :\n    9223372036854775806\n}'), { owner_id: '9223372036854775806' });
  assert.deepEqual(parseAdminJson('[9223372036854775807, 1, {"a": [9007199254740993]}]'), ['9223372036854775807', 1, { a: ['9007199254740993'] }]);
  assert.deepEqual(parseAdminJson('{"x": -9223372036854775807}'), { x: '-9223372036854775807' });
});

test('small numbers, fractions and exponents stay numbers', () => {
  assert.deepEqual(parseAdminJson('{"user_id": 42, "ttl_s": 3600, "f": 1.5, "e": 1e21, "big": 123456789012345}'), {
    user_id: 42,
    ttl_s: 3600,
    f: 1.5,
    e: 1e21,
    big: 123456789012345,
  });
  assert.deepEqual(parseAdminJson('{"d": 1234567890123456.5}'), { d: 1234567890123456.5 });
});

test('property: any int64 in any object position comes back as its exact decimal string', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: -INT64_MAX, max: INT64_MAX }).filter((n) => (n < 0n ? -n : n) >= 10n ** 15n),
      fc.constantFrom('', ' ', '\n', '\t  '),
      (n, ws) => {
        const text = `{"a":${ws}${n}${ws},"b":[${ws}${n}${ws},${ws}${n}],"c":{"d":${n}}}`;
        const s = n.toString();
        assert.deepEqual(parseAdminJson(text), { a: s, b: [s, s], c: { d: s } });
      },
    ),
  );
});

test('property: string values are never changed, whatever digits and punctuation they hold', () => {
  const tricky = fc.oneof(
    fc.string(),
    fc.stringMatching(/^[:,[\]{} "\\0-9a-z]{0,60}$/),
    fc.bigInt({ min: 10n ** 15n, max: INT64_MAX }).map((n) => `x:${n},`),
    fc.bigInt({ min: 10n ** 15n, max: INT64_MAX }).map((n) => `[${n}]`),
  );
  fc.assert(
    fc.property(tricky, tricky, (a, b) => {
      const text = JSON.stringify({ note: a, list: [a, b], [a]: b });
      assert.deepEqual(parseAdminJson(text), JSON.parse(text));
    }),
  );
});

test('property: JSON without big integers parses exactly as JSON.parse', () => {
  const noBigInts = (v: unknown): boolean => {
    if (typeof v === 'number') return !Number.isInteger(v) || Math.abs(v) < 1e15 || !/^-?\d{16,}$/.test(String(v));
    if (Array.isArray(v)) return v.every(noBigInts);
    if (v !== null && typeof v === 'object') return Object.values(v).every(noBigInts);
    return true;
  };
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      fc.pre(noBigInts(v));
      const text = JSON.stringify(v);
      assert.deepEqual(parseAdminJson(text), JSON.parse(text));
    }),
  );
});

test('a string that merely contains ":<16 digits>," is left alone (it used to break the body)', () => {
  assert.deepEqual(parseAdminJson('{"user_id":"7","note":"at:12345678901234567,ok"}'), { user_id: '7', note: 'at:12345678901234567,ok' });
  assert.deepEqual(parseAdminJson('{"note":"say \\"x\\":12345678901234567}","user_id":9223372036854775807}'), {
    note: 'say "x":12345678901234567}',
    user_id: '9223372036854775807',
  });
});

test('invalid JSON still throws', () => {
  for (const text of ['{', '{"a":}', "{'a':1}", '{"a":1,}', 'undefined', '{"a":"unterminated}']) {
    assert.throws(() => parseAdminJson(text), SyntaxError, text);
  }
});
