import { describe, expect, it } from 'vitest';
import {
  SignalCloseReasonSchema,
  SignalServerMessageSchema,
  type ParsedSignalServerMessage,
  type SignalServerMessage,
} from './signal-to-client.js';
import goldenFrames from './golden/signal-to-client.json' with { type: 'json' };

/** The golden frames the SDK's zod-free parser is held to as well (packages/sdk/src/messages.test.ts). */
const golden = goldenFrames as unknown as {
  valid: SignalServerMessage[];
  extraFields: { frame: unknown; decoded: ParsedSignalServerMessage }[];
  invalid: unknown[];
};

describe('SignalServerMessageSchema, on the golden frames', () => {
  it('has every message type and close reason among the valid frames', () => {
    const seen = new Set(golden.valid.map((m) => (m.type === 'closed' ? m.reason : m.type)));
    for (const t of ['welcome', 'signal', 'refreshed', 'error', 'pong']) expect(seen).toContain(t);
    for (const r of SignalCloseReasonSchema.options) {
      expect(seen).toContain(r);
    }
  });

  for (const m of golden.valid) {
    it(`decodes ${JSON.stringify(m).slice(0, 70)}`, () => {
      expect(SignalServerMessageSchema.parse(m)).toEqual(m);
    });
  }

  it('drops fields a newer server adds', () => {
    for (const { frame, decoded } of golden.extraFields) {
      expect(SignalServerMessageSchema.parse(frame)).toEqual(decoded);
    }
  });

  it('refuses every invalid frame', () => {
    for (const v of golden.invalid) {
      expect([v, SignalServerMessageSchema.safeParse(v).success]).toEqual([v, false]);
    }
  });
});
