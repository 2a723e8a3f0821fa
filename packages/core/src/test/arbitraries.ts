/**
 * Generators of valid wire values (session and signalling messages, endpoints), shared by the
 * `*.fuzz.test.ts` files: the seeds their mutations start from. Used only by tests.
 */
import fc from 'fast-check';
import { formatIPv4, formatIPv6 } from '../net/ip-text.js';
import type { StunAddress } from '../stun/stun.js';

/** A few stream names a room has, and names it has not (valid or not). */
export const STREAMS = ['cam-wide', 'cam-close'] as const;
export const streamName = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...STREAMS) },
    { weight: 1, arbitrary: fc.constantFrom('cam-3', 'zz') },
    { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,62}$/) },
  );

export const role = (): fc.Arbitrary<'sender' | 'receiver'> =>
  fc.constantFrom('sender', 'receiver');

export const endpoint = (): fc.Arbitrary<{ ip: string; port: number }> =>
  fc.record({
    ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('198.51.100.1', '203.0.113.10')),
    port: fc.integer({ min: 1, max: 65535 }),
  });

const stats = (): fc.Arbitrary<Record<string, unknown>> =>
  fc.record(
    {
      path: fc.constantFrom('direct', 'relay', 'none'),
      rttMs: fc.double({ min: 0, max: 600_000, noNaN: true }),
      sendBps: fc.double({ min: 0, max: 1e9, noNaN: true }),
      recvBps: fc.double({ min: 0, max: 1e9, noNaN: true }),
      sendBytes: fc.nat(),
      lossPct: fc.double({ min: 0, max: 100, noNaN: true }),
      mediaBps: fc.double({ min: 0, max: 1e9, noNaN: true }),
      srt: fc.dictionary(
        fc.string({ maxLength: 8 }),
        fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.boolean()),
        { maxKeys: 4 },
      ),
    },
    { requiredKeys: [] },
  );

/** Valid session client messages (client → server), as plain objects. */
export const clientMessage = (): fc.Arbitrary<Record<string, unknown>> =>
  fc.oneof(
    fc.record(
      {
        type: fc.constant('register'),
        stream: streamName(),
        role: role(),
        takeover: fc.boolean(),
      },
      { requiredKeys: ['type', 'stream', 'role'] },
    ),
    fc.record(
      {
        type: fc.constant('endpoint'),
        stream: streamName(),
        role: role(),
        public: endpoint(),
        local: fc.array(endpoint(), { maxLength: 8 }),
        relay: endpoint(),
      },
      { requiredKeys: ['type', 'stream', 'role'] },
    ),
    fc.record({ type: fc.constant('health'), stream: streamName(), role: role(), stats: stats() }),
    fc.record({
      type: fc.constant('tally'),
      program: fc.array(streamName(), { maxLength: 4 }),
      preview: fc.array(streamName(), { maxLength: 4 }),
    }),
    fc.constant({ type: 'ping' }),
  );

const peerId = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom('alice', 'bob', 'room-1', 'a.b@c+d_e-f'),
    fc.stringMatching(/^[A-Za-z0-9._@+-]{1,64}$/),
  );

export const peerRef = (): fc.Arbitrary<{ group: string; peer: string }> =>
  fc.record({ group: peerId(), peer: peerId() });

/** Valid signalling client messages (client → server), as plain objects. */
export const signalMessage = (): fc.Arbitrary<Record<string, unknown>> =>
  fc.oneof(
    fc.record(
      {
        type: fc.constant('signal'),
        to: peerRef(),
        payload: fc.jsonValue({ maxDepth: 3 }),
        ref: fc.string({ minLength: 1, maxLength: 64 }),
      },
      { requiredKeys: ['type', 'to', 'payload'] },
    ),
    fc.record(
      {
        type: fc.constant('token'),
        token: fc.string({ minLength: 1, maxLength: 200 }),
        ref: fc.string({ minLength: 1, maxLength: 64 }),
      },
      { requiredKeys: ['type', 'token'] },
    ),
    fc.constant({ type: 'ping' }),
  );

/** A canonical address (as the decoder prints it); never an IPv4-mapped IPv6 (sent as IPv4). */
export const stunAddress = (): fc.Arbitrary<StunAddress> =>
  fc.oneof(
    fc.record({
      ip: fc.uint8Array({ minLength: 4, maxLength: 4 }).map(formatIPv4),
      port: fc.integer({ min: 0, max: 0xffff }),
      family: fc.constant(4 as const),
    }),
    fc.record({
      ip: fc
        .uint8Array({ minLength: 16, maxLength: 16 })
        .filter(
          (b) => !(b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff),
        )
        .map(formatIPv6),
      port: fc.integer({ min: 0, max: 0xffff }),
      family: fc.constant(6 as const),
    }),
  );
