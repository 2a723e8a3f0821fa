/**
 * A newer server's answer, for the tests that read it as an older client does. Used only by
 * tests.
 */

/** Objects whose keys are data (SRT's statistic names, tool names): no field is added there. */
const DATA_KEYED = new Set(['srt', 'commands']);

/**
 * `value` with a field no server sends yet added to every object in it, at any depth.
 *
 * @example
 * withFutureFields({ a: [{ b: 1 }] }); // { later: {added: 1}, a: [{ later: {added: 1}, b: 1 }] }
 */
export function withFutureFields(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => withFutureFields(v));
  if (value === null || typeof value !== 'object' || DATA_KEYED.has(key)) return value;
  const out: Record<string, unknown> = { later: { added: 1 } };
  for (const [k, v] of Object.entries(value)) out[k] = withFutureFields(v, k);
  return out;
}
