/**
 * Property tests of the agents' tunnel packets (docs/fuzzing.md): no forged, reflected or
 * mutated probe is ever accepted, genuine ones always are, and pings read back as written.
 */
import fc from 'fast-check';
import { beforeAll, expect } from 'vitest';
import { applyByteOps, byteOps, fuzzFile } from '../test/fuzz.js';
import {
  PROBE_LENGTH,
  decodePing,
  deriveTunnelKey,
  encodePing,
  encodeProbe,
  packetType,
  verifyProbe,
} from './packet.js';

const fuzzIt = fuzzFile('tunnel');

let key: CryptoKey;
let otherKey: CryptoKey;
beforeAll(async () => {
  key = await deriveTunnelKey('AbCdEfGhIjKlMnOpQrStUvWxYz012345', 'show', 'cam-wide');
  // Same passphrase, another stream: its probes must not pass for this stream's.
  otherKey = await deriveTunnelKey('AbCdEfGhIjKlMnOpQrStUvWxYz012345', 'show', 'cam-close');
});

const role = (): fc.Arbitrary<'sender' | 'receiver'> => fc.constantFrom('sender', 'receiver');
const kind = (): fc.Arbitrary<'probe' | 'probeAck'> => fc.constantFrom('probe', 'probeAck');
const nonce = (): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: 8, maxLength: 8 });
const other = (r: 'sender' | 'receiver'): 'sender' | 'receiver' =>
  r === 'sender' ? 'receiver' : 'sender';

fuzzIt(
  'a genuine probe verifies from its sender, and only from it',
  2_000,
  fc.asyncProperty(kind(), role(), nonce(), async (k, r, n) => {
    const probe = await encodeProbe(key, k, r, n);
    expect(await verifyProbe(key, probe, r)).toEqual({ kind: k, nonce: n });
    expect(await verifyProbe(key, probe, other(r))).toBeUndefined(); // reflected
    expect(await verifyProbe(otherKey, probe, r)).toBeUndefined(); // another stream's key
  }),
);

fuzzIt(
  'a mutated probe or any other bytes never verify',
  5_000,
  fc.asyncProperty(
    fc.oneof(
      fc.uint8Array({ minLength: PROBE_LENGTH, maxLength: PROBE_LENGTH }),
      fc.uint8Array({ maxLength: 64 }),
    ),
    kind(),
    role(),
    nonce(),
    fc.nat(),
    byteOps(),
    async (junk, k, r, n, seed, ops) => {
      const probe = await encodeProbe(key, k, r, n);
      // One bit flipped: every bit counts (type, role, nonce, tag).
      const bit = seed % (PROBE_LENGTH * 8);
      const flipped = probe.slice();
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      expect(await verifyProbe(key, flipped, r)).toBeUndefined();
      // Any edits at all (bytes set, inserted, deleted, truncated) that changed it.
      const edited = applyByteOps(probe, ops);
      const same = edited.length === probe.length && edited.every((b, i) => b === probe[i]);
      if (!same) expect(await verifyProbe(key, edited, r)).toBeUndefined();
      // Random bytes: the chance of a valid 128-bit tag is nil.
      expect(await verifyProbe(key, junk, 'sender')).toBeUndefined();
      expect(await verifyProbe(key, junk, 'receiver')).toBeUndefined();
    },
  ),
);

fuzzIt(
  'encodePing then decodePing is the identity, and any bytes decode or not without throwing',
  10_000,
  fc.property(
    fc.constantFrom('ping' as const, 'pong' as const),
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.double(),
    fc.uint8Array({ maxLength: 20 }),
    (k, seq, at, junk) => {
      const ping = encodePing(k, seq, at);
      expect(packetType(ping)).toBe(k);
      const back = decodePing(ping);
      expect(back?.kind).toBe(k);
      expect(back?.seq).toBe(seq);
      expect(Object.is(back?.sentAt, at) || (Number.isNaN(at) && Number.isNaN(back?.sentAt))).toBe(
        true,
      );
      const d = decodePing(junk);
      if (d !== undefined) expect(junk.length).toBe(13);
      const t = packetType(junk);
      if (t !== undefined) expect(junk[0]).toBeGreaterThanOrEqual(0xc1);
    },
  ),
);
