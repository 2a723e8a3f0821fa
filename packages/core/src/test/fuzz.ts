/**
 * What every `*.fuzz.test.ts` shares: how many inputs a property runs, the check that a failure
 * is one of the protocol's own, and a per-file count of the inputs that ran (printed, so the
 * total of a run is visible). Used only by tests.
 *
 * `npm test` runs each property at its base count (the sum over every file is over 100,000
 * inputs); `PUNCH_FUZZ_SCALE=<n>` multiplies every count (`npm run fuzz` runs at 10), and
 * `PUNCH_FUZZ_SEED` replays a failure's seed.
 */
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { ERRORS, PunchError } from '../errors.js';

function envNumber(name: string, valid: (n: number) => boolean): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!valid(n)) throw new Error(`${name} is not a valid value: ${raw}`);
  return n;
}

/** The multiplier over every base count (1 unless `PUNCH_FUZZ_SCALE` says otherwise). */
export const FUZZ_SCALE = envNumber('PUNCH_FUZZ_SCALE', (n) => Number.isFinite(n) && n > 0) ?? 1;
/** fast-check's seeds are 32-bit integers, negative ones included. */
const SEED = envNumber('PUNCH_FUZZ_SEED', Number.isSafeInteger);

/** How many inputs a property with base count `base` runs in this run. */
export function fuzzRuns(base: number): number {
  return Math.max(1, Math.round(base * FUZZ_SCALE));
}

/** fast-check's parameters for a property of base count `base` (seed printed on failure). */
export function fuzzParams<T>(base: number): fc.Parameters<T> {
  return { numRuns: fuzzRuns(base), ...(SEED === undefined ? {} : { seed: SEED }) };
}

/** One property: a name, its base count, the property. */
export type FuzzIt = <T>(
  name: string,
  base: number,
  property: fc.IProperty<T> | fc.IAsyncProperty<T>,
  timeout?: number,
) => void;

/**
 * Declares a fuzz file named `file`: call it at the top level of the file; it returns the `it`
 * of its properties, each running `fuzzRuns(base)` inputs, and prints the file's count after
 * all of them ran (one line, so `npm test` and `npm run fuzz` show the total).
 *
 * @example
 * const fuzzIt = fuzzFile('wire');
 * fuzzIt('decodes or refuses', 10_000, fc.property(fc.string(), (s) => { ... }));
 */
export function fuzzFile(file: string): FuzzIt {
  const counted: number[] = [];
  afterAll(() => {
    const total = counted.reduce((sum, n) => sum + n, 0);
    console.log(
      `[fuzz] ${file}: ${counted.length} properties, ${total} inputs (scale ${FUZZ_SCALE})`,
    );
  });
  return (name, base, property, timeout) => {
    const runs = fuzzRuns(base);
    it(
      `${name} (${runs} inputs)`,
      async () => {
        await fc.assert(property, fuzzParams(base));
        counted.push(runs);
      },
      // Scaled runs take proportionally longer: the timeout scales with them.
      (timeout ?? 30_000) * Math.max(1, FUZZ_SCALE),
    );
  };
}

/**
 * Asserts that `err` is a refusal the protocol knows: a PunchError whose code is in ERRORS,
 * never ERR_INTERNAL (which means a bug was caught), never any other exception.
 *
 * @example
 * try { decodeClientMessage(text); } catch (err) { expectTableError(err); }
 */
export function expectTableError(err: unknown): asserts err is PunchError {
  if (!(err instanceof PunchError)) throw err;
  expect(Object.keys(ERRORS)).toContain(err.code);
  expect(err.code).not.toBe('ERR_INTERNAL');
}

/** Runs `fn`; returns its value, or the PunchError it threw (any other exception propagates). */
export function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; err: PunchError } {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    expectTableError(err);
    return { ok: false, err };
  }
}

/** `attempt` for async work. */
export async function attemptAsync<T>(
  fn: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; err: PunchError }> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    expectTableError(err);
    return { ok: false, err };
  }
}

/** JSON-ish values: anything JSON.parse could return, plus deep and odd shapes. */
export const jsonish = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.anything({ maxDepth: 3, withNullPrototype: true, withBoxedValues: false }),
  );

/**
 * Mutations of a valid JSON object: drop a key, set a key to any JSON value, add a stray key,
 * or replace a nested value. The result may or may not still be valid.
 */
export function mutateObject(
  base: fc.Arbitrary<Record<string, unknown>>,
): fc.Arbitrary<Record<string, unknown>> {
  const value = fc.jsonValue({ maxDepth: 2 });
  return fc
    .tuple(
      base,
      fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('drop' as const), i: fc.nat() }),
          fc.record({ op: fc.constant('set' as const), i: fc.nat(), v: value }),
          fc.record({ op: fc.constant('add' as const), k: fc.string({ maxLength: 8 }), v: value }),
        ),
        { minLength: 1, maxLength: 3 },
      ),
    )
    .map(([obj, ops]) => {
      // Entries, not property assignment: a key such as `__proto__` stays an own key.
      const entries = Object.entries(obj);
      for (const op of ops) {
        const at = entries.length === 0 ? -1 : (op.op === 'add' ? 0 : op.i) % entries.length;
        const entry = entries[at];
        if (op.op === 'drop' && entry !== undefined) entries.splice(at, 1);
        else if (op.op === 'set' && entry !== undefined) entries[at] = [entry[0], op.v];
        else if (op.op === 'add') entries.push([op.k, op.v]);
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of entries) {
        Object.defineProperty(out, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    });
}

/** One edit of a byte string. */
export type ByteOp =
  | { op: 'flip'; i: number; bit: number }
  | { op: 'set' | 'insert'; i: number; b: number }
  | { op: 'delete' | 'truncate'; i: number };

/** One to four byte edits: flip a bit, set, insert or delete a byte, or truncate. */
export const byteOps = (): fc.Arbitrary<ByteOp[]> =>
  fc.array(
    fc.oneof(
      fc.record({ op: fc.constant('flip' as const), i: fc.nat(), bit: fc.nat(7) }),
      fc.record({
        op: fc.constantFrom('set' as const, 'insert' as const),
        i: fc.nat(),
        b: fc.nat(255),
      }),
      fc.record({ op: fc.constantFrom('delete' as const, 'truncate' as const), i: fc.nat() }),
    ),
    { minLength: 1, maxLength: 4 },
  );

/** `bytes` with `ops` applied (a copy). */
export function applyByteOps(bytes: Uint8Array, ops: readonly ByteOp[]): Uint8Array {
  let b = [...bytes];
  for (const o of ops) {
    const at = b.length === 0 ? 0 : o.i % b.length;
    if (o.op === 'flip' && b.length > 0) b[at] = (b[at] ?? 0) ^ (1 << o.bit);
    else if (o.op === 'set' && b.length > 0) b[at] = o.b;
    else if (o.op === 'insert') b.splice(at, 0, o.b);
    else if (o.op === 'delete') b.splice(at, 1);
    else if (o.op === 'truncate') b = b.slice(0, at);
  }
  return Uint8Array.from(b);
}

/** Mutations of valid bytes (see `byteOps`). */
export function mutateBytes(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(base, byteOps()).map(([bytes, ops]) => applyByteOps(bytes, ops));
}
