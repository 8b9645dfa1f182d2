// Lanying ids are int64. JS clients send them as strings or JSON numbers; values above 2^53
// must survive, so Ferry keeps every id as its canonical decimal string and never as a double.
import { badParam } from './errors.ts';

const INT64_MAX = 9223372036854775807n;

/** Canonical decimal string of a positive int64, or null when the value is not one. */
export function canonicalId(value: unknown): string | null {
  let text: string;
  if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'bigint') text = value.toString();
  else if (typeof value === 'number' && Number.isSafeInteger(value)) text = String(value);
  else return null;
  if (!/^\+?\d{1,19}$/.test(text)) return null;
  const n = BigInt(text);
  if (n < 1n || n > INT64_MAX) return null;
  return n.toString();
}

/** Parse a required id parameter, or throw a 10002 naming it. */
export function parseId(name: string, value: unknown): string {
  if (value === undefined || value === null || value === '') throw badParam(`${name} is required`);
  const id = canonicalId(value);
  if (id === null) throw badParam(`${name} must be a positive 64-bit integer, got "${String(value).slice(0, 40)}"`);
  return id;
}

export function parseOptionalId(name: string, value: unknown): string | undefined {
  return value === undefined || value === '' ? undefined : parseId(name, value);
}
