/**
 * State-machine fuzzing of a project's signalling room (docs/fuzzing.md): random joins (peers
 * of a few groups, with several allow policies and two keys), frames (valid signals and token
 * refreshes, mutated, junk, binary), leaves, key deletions, ticks and project deletion. After
 * every step: nothing threw, no ERR_INTERNAL or error log, one live socket per (group, peer),
 * a closed socket is sent nothing more, and a `signal` reaches only a peer whose policy and
 * whose sender's policy allow each other.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { ERRORS, PunchError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { jsonish, fuzzFile, mutateObject } from '../test/fuzz.js';
import type { PeerIdentity } from '../token/peer-token.js';
import type { SignalServerMessage } from '../wire/signal-to-client.js';
import type { SignalConn } from './conn.js';
import { allows, type AllowRule, type PeerRef } from './policy.js';
import { Revocations } from './revocations.js';
import { SignalRoom } from './room.js';

const fuzzIt = fuzzFile('signal');

const T0 = 1_741_234_000_000;
const T0S = T0 / 1000;
const GROUPS = ['room-1', 'room-2', 'ops'] as const;
const PEERS = ['alice', 'bob', 'carol'] as const;
const KIDS = ['kid-a', 'kid-b'] as const;
const POLICIES: readonly AllowRule[][] = [
  [{ group: '*', peer: '*' }],
  [{ group: 'room-1', peer: '*' }],
  [{ group: 'ops', peer: 'bob' }],
  [{ group: 'room-*', peer: '*a*' }],
  [],
];

class FakeConn implements SignalConn {
  readonly sent: SignalServerMessage[] = [];
  /** How many messages it had when it was closed. */
  closedAt: number | undefined;
  constructor(
    readonly id: string,
    public identity: PeerIdentity,
    readonly stun = null,
  ) {}
  send(message: SignalServerMessage): void {
    this.sent.push(message);
  }
  close(err: PunchError): void {
    expect(err.code in ERRORS).toBe(true);
    this.closedAt ??= this.sent.length;
  }
}

const identity = (g: number, p: number, pol: number, kid: number, ttl: number): PeerIdentity => ({
  project: 'prj_fuzz',
  kid: KIDS[kid % KIDS.length] ?? 'kid-a',
  group: GROUPS[g % GROUPS.length] ?? 'ops',
  peer: PEERS[p % PEERS.length] ?? 'bob',
  allow: POLICIES[pol % POLICIES.length] ?? [],
  expiresAt: T0S + ttl,
});

/** The fake verifier's token format: `ok.<g>.<p>.<policy>.<kid>.<ttl>`; anything else fails. */
async function verify(token: string): Promise<PeerIdentity> {
  await Promise.resolve(); // verification is asynchronous in every host
  const m = /^ok\.(\d)\.(\d)\.(\d)\.(\d)\.(\d{1,5})$/.exec(token);
  if (m === null) throw new PunchError('ERR_TOKEN_SIGNATURE');
  return identity(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
}

// ---- commands ---------------------------------------------------------------------------------

type Command =
  | { c: 'join'; g: number; p: number; pol: number; kid: number; ttl: number }
  | { c: 'frame'; who: number; text: string | null }
  | { c: 'leave'; who: number }
  | { c: 'closeKey'; kid: number }
  | { c: 'tick'; ms: number }
  | { c: 'closeAll' };

const ref = (): fc.Arbitrary<PeerRef> =>
  fc.record({
    group: fc.constantFrom(...GROUPS, 'room-1', 'x'),
    peer: fc.constantFrom(...PEERS, 'y'),
  });
const valid = (): fc.Arbitrary<Record<string, unknown>> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        type: fc.constant('signal'),
        to: ref(),
        payload: fc.jsonValue({ maxDepth: 2 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record(
        {
          type: fc.constant('token'),
          token: fc.oneof(
            fc
              .tuple(fc.nat(2), fc.nat(2), fc.nat(4), fc.nat(1), fc.integer({ min: 1, max: 9999 }))
              .map((t) => `ok.${t.join('.')}`),
            fc.string({ minLength: 1, maxLength: 20 }),
          ),
          ref: fc.string({ minLength: 1, maxLength: 8 }),
        },
        { requiredKeys: ['type', 'token'] },
      ),
    },
    { weight: 1, arbitrary: fc.constant({ type: 'ping' }) },
  );
const frameText = (): fc.Arbitrary<string | null> =>
  fc.oneof(
    { weight: 8, arbitrary: valid().map((m) => JSON.stringify(m)) },
    { weight: 3, arbitrary: mutateObject(valid()).map((m) => JSON.stringify(m)) },
    { weight: 1, arbitrary: jsonish().map((v) => JSON.stringify(v) ?? '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constant(null) },
  );

const command = (): fc.Arbitrary<Command> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        c: fc.constant('join' as const),
        g: fc.nat(2),
        p: fc.nat(2),
        // Mostly policies that let peers talk: most signals are delivered, some refused.
        pol: fc.constantFrom(0, 0, 0, 1, 2, 3, 4),
        kid: fc.nat(1),
        ttl: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 600, max: 7200 })),
      }),
    },
    {
      weight: 40,
      arbitrary: fc.record({ c: fc.constant('frame' as const), who: fc.nat(), text: frameText() }),
    },
    { weight: 1, arbitrary: fc.record({ c: fc.constant('leave' as const), who: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ c: fc.constant('closeKey' as const), kid: fc.nat(1) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        c: fc.constant('tick' as const),
        ms: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 600_000 })),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ c: 'closeAll' as const }) },
  );

/** The `ref` a frame carries, if it is a JSON object with a string one. */
function refOf(text: string | null): string | undefined {
  try {
    const v: unknown = JSON.parse(text ?? '');
    return typeof v === 'object' && v !== null && 'ref' in v && typeof v.ref === 'string'
      ? v.ref
      : undefined;
  } catch {
    return undefined; // not JSON: no ref to echo
  }
}

// ---- the world --------------------------------------------------------------------------------

const keyOf = (r: PeerRef): string => `${r.group}/${r.peer}`;
/** Runs every pending continuation (the fake verifier only uses microtasks). */
const flush = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

class World {
  clock = T0;
  readonly conns: FakeConn[] = [];
  readonly gone = new Set<FakeConn>();
  readonly checked = new Map<FakeConn, number>();
  /** The refs each socket put on its frames (an `error` may echo only those). */
  readonly refs = new Map<FakeConn, Set<string>>();
  readonly errors: unknown[] = [];
  readonly revocations = new Revocations();
  readonly room: SignalRoom;

  constructor() {
    const log: Logger = { ...silentLogger, error: (fields) => this.errors.push(fields) };
    this.room = new SignalRoom({
      project: 'prj_fuzz',
      log,
      now: () => this.clock,
      verify,
      iceServers: () => Promise.resolve([{ urls: ['stun:stun.punch.test:3478'] }]),
      audit: () => undefined,
      revocations: this.revocations,
    });
  }

  live(): FakeConn[] {
    return this.conns.filter((c) => c.closedAt === undefined && !this.gone.has(c));
  }

  async run(cmd: Command): Promise<void> {
    const pick = (n: number): FakeConn | undefined =>
      this.conns[n % Math.max(1, this.conns.length)];
    switch (cmd.c) {
      case 'join': {
        const c = new FakeConn(
          `c${this.conns.length}`,
          identity(cmd.g, cmd.p, cmd.pol, cmd.kid, cmd.ttl),
        );
        this.conns.push(c);
        this.room.join(c, []);
        break;
      }
      case 'frame': {
        const c = pick(cmd.who);
        if (c === undefined || c.closedAt !== undefined || this.gone.has(c)) return;
        const r = refOf(cmd.text);
        if (r !== undefined) this.refs.set(c, (this.refs.get(c) ?? new Set()).add(r));
        this.room.receive(c, cmd.text);
        break;
      }
      case 'leave': {
        const c = pick(cmd.who);
        if (c === undefined) return;
        this.room.leave(c);
        this.gone.add(c);
        break;
      }
      case 'closeKey': {
        const kid = KIDS[cmd.kid] ?? 'kid-a';
        this.revocations.add(kid, this.clock);
        this.room.closeKey(kid);
        break;
      }
      case 'tick':
        this.clock += cmd.ms;
        this.room.tick(this.clock);
        break;
      case 'closeAll':
        this.room.closeAll('project-deleted');
        break;
    }
    await flush();
  }

  check(step: string, before: Map<FakeConn, PeerIdentity>): void {
    expect(this.errors, step).toEqual([]);
    const seen = new Map<string, FakeConn>();
    for (const c of this.live()) {
      const key = keyOf(c.identity);
      expect(seen.get(key)?.id, `${step}: two live sockets for ${key}`).toBeUndefined();
      seen.set(key, c);
    }
    for (const c of this.conns) {
      const from = this.checked.get(c) ?? 0;
      this.checked.set(c, c.sent.length);
      const fail = (m: SignalServerMessage): never =>
        expect.fail(`${step}: ${c.id} ${keyOf(c.identity)} got ${JSON.stringify(m)}`);
      if (c.closedAt !== undefined && c.sent.length > c.closedAt)
        fail(c.sent[c.closedAt] ?? { type: 'pong', at: 0 });
      for (const m of c.sent.slice(from)) {
        if (m.type === 'error') {
          if (!(m.code in ERRORS) || m.code === 'ERR_INTERNAL') fail(m);
          if (m.ref !== undefined && this.refs.get(c)?.has(m.ref) !== true) fail(m);
        }
        if (m.type !== 'signal') continue;
        // Both policies allow the pair: the recipient's (before or after this step's refresh)…
        const mine = [before.get(c), c.identity].some(
          (i) => i !== undefined && allows(i.allow, m.from),
        );
        if (!mine) fail(m);
        // …and a sender's, one of the sockets speaking for `from`.
        const senders = this.conns.filter((s) => keyOf(s.identity) === keyOf(m.from));
        const theirs = senders.some((s) =>
          [before.get(s), s.identity].some((i) => i !== undefined && allows(i.allow, c.identity)),
        );
        if (!theirs) fail(m);
      }
    }
  }
}

fuzzIt(
  'any sequence keeps one socket per peer and relays only between peers that allow each other',
  2_000,
  fc.asyncProperty(
    fc.array(command(), { minLength: 5, maxLength: 40, size: 'max' }),
    async (commands) => {
      const w = new World();
      for (const [i, cmd] of commands.entries()) {
        const before = new Map(w.conns.map((c) => [c, c.identity]));
        await w.run(cmd);
        w.check(`step ${i} (${cmd.c})`, before);
      }
    },
  ),
  60_000,
);
