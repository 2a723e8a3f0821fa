/**
 * Small hand-written decoders for what arrives from the network (no schema library in the
 * browser bundle). Each takes `unknown` and returns a typed value or a reason.
 */

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/**
 * A successful decode.
 *
 * @example
 * return ok({ type: 'pong', at: 1 });
 */
export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

/**
 * A failed decode, with the reason.
 *
 * @example
 * return fail('malformed pong');
 */
export function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

/**
 * True for a plain JSON object (not null, not an array).
 *
 * @example
 * isRecord({}); // true
 * isRecord([]); // false
 */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * True for a string of at most `max` characters.
 *
 * @example
 * isString('c7-1', 64); // true
 */
export function isString(v: unknown, max = Infinity): v is string {
  return typeof v === 'string' && v.length <= max;
}

/**
 * True for a finite number.
 *
 * @example
 * isNumber(Number.NaN); // false
 */
export function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * `JSON.parse` that returns a reason instead of throwing, after a size check.
 *
 * @example
 * parseJson('{"a":1}', 1024); // { ok: true, value: { a: 1 } }
 */
export function parseJson(text: unknown, maxChars: number): Parsed<unknown> {
  if (typeof text !== 'string') return fail('not a text frame');
  if (text.length > maxChars) return fail(`longer than ${maxChars} characters`);
  try {
    const value: unknown = JSON.parse(text);
    return ok(value);
  } catch {
    return fail('not JSON');
  }
}
