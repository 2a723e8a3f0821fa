/**
 * Property tests of the client → server decoders (docs/fuzzing.md): any text either decodes to
 * a message the schema accepts or is refused with ERR_BAD_REQUEST / ERR_PAYLOAD_TOO_LARGE, and
 * never anything else.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { utf8 } from '../encoding.js';
import { clientMessage, signalMessage } from '../test/arbitraries.js';
import { attempt, fuzzFile, jsonish, mutateObject } from '../test/fuzz.js';
import { ClientMessageSchema, MAX_FRAME_BYTES, decodeClientMessage } from './messages.js';
import {
  MAX_SIGNAL_PAYLOAD_BYTES,
  SignalClientMessageSchema,
  SignalDecodeError,
  SignalMessage,
  decodeSignalClientMessage,
  wellFormedSignal,
} from './signal.js';

const fuzzIt = fuzzFile('wire');

/** Text frames: any string, any JSON-ish value as JSON, or a valid message mutated. */
function frames(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    jsonish().map((v) => JSON.stringify(v) ?? 'undefined'),
    valid.map((m) => JSON.stringify(m)),
    mutateObject(valid).map((m) => JSON.stringify(m)),
    // Around the size limit: padding inside a valid message, ASCII or multi-byte.
    fc
      .tuple(
        valid,
        fc.integer({ min: MAX_FRAME_BYTES - 64, max: MAX_FRAME_BYTES + 64 }),
        fc.boolean(),
      )
      .map(([m, n, wide]) =>
        JSON.stringify({ ...m, pad: (wide ? 'é' : 'a').repeat(wide ? n / 2 : n) }),
      ),
  );
}

describe('decodeClientMessage', () => {
  fuzzIt(
    'decodes to a schema-valid message or refuses with a table code',
    10_000,
    fc.property(frames(clientMessage()), (text) => {
      const r = attempt(() => decodeClientMessage(text));
      if (r.ok) {
        expect(ClientMessageSchema.safeParse(r.value).success).toBe(true);
        expect(utf8(text).byteLength).toBeLessThanOrEqual(MAX_FRAME_BYTES);
      } else {
        const big = utf8(text).byteLength > MAX_FRAME_BYTES;
        expect(r.err.code).toBe(big ? 'ERR_PAYLOAD_TOO_LARGE' : 'ERR_BAD_REQUEST');
      }
    }),
  );

  fuzzIt(
    'a valid message decodes to itself',
    5_000,
    fc.property(clientMessage(), (m) => {
      const text = JSON.stringify(m);
      expect(decodeClientMessage(text)).toEqual(JSON.parse(text));
    }),
  );
});

describe('decodeSignalClientMessage', () => {
  fuzzIt(
    'decodes to a schema-valid message within the payload limit, or refuses with a table code',
    10_000,
    fc.property(
      fc.oneof(
        frames(signalMessage()),
        // Payloads around their own 10 KiB limit.
        fc
          .integer({ min: MAX_SIGNAL_PAYLOAD_BYTES - 32, max: MAX_SIGNAL_PAYLOAD_BYTES + 32 })
          .map((n) =>
            JSON.stringify({
              type: 'signal',
              to: { group: 'g', peer: 'p' },
              payload: 'x'.repeat(n),
            }),
          ),
      ),
      fc.boolean(),
      (text, withBytes) => {
        const bytes = utf8(text).byteLength;
        let err: unknown;
        try {
          const m = decodeSignalClientMessage(text, withBytes ? bytes : undefined);
          expect(SignalClientMessageSchema.safeParse(m).success).toBe(true);
          if (m.type === 'signal') {
            expect(utf8(JSON.stringify(m.payload)).byteLength).toBeLessThanOrEqual(
              MAX_SIGNAL_PAYLOAD_BYTES,
            );
          }
          return;
        } catch (e) {
          err = e;
        }
        const r = attempt(() => {
          throw err;
        });
        if (r.ok) return;
        expect(['ERR_BAD_REQUEST', 'ERR_PAYLOAD_TOO_LARGE']).toContain(r.err.code);
        if (bytes > MAX_FRAME_BYTES) expect(r.err.code).toBe('ERR_PAYLOAD_TOO_LARGE');
        // A `ref` is echoed only when the frame carried that very label.
        if (r.err instanceof SignalDecodeError && r.err.ref !== undefined) {
          expect(text).toContain(JSON.stringify(r.err.ref).slice(1, -1));
        }
      },
    ),
  );

  fuzzIt(
    'the hand-written fast path agrees with the schema on every JSON value',
    10_000,
    fc.property(fc.oneof(jsonish(), signalMessage(), mutateObject(signalMessage())), (v) => {
      // What a frame can carry: a value after a JSON round trip.
      const text = JSON.stringify(v);
      if (text === undefined) return;
      const json: unknown = JSON.parse(text);
      const fast = wellFormedSignal(json);
      const schema = SignalMessage.safeParse(json);
      expect(fast !== undefined).toBe(schema.success);
      if (fast !== undefined) expect(fast).toEqual(schema.data);
    }),
  );
});
