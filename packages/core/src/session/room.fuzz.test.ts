/**
 * Model-free state-machine fuzzing of the session room (docs/fuzzing.md): random sequences of
 * joins with every token scope, frames (valid, mutated, junk, binary), STUN observations,
 * leaves, tally, extensions, ticks, hibernation and close, over a room with sockets of several
 * scopes. After every step: nothing threw, no ERR_INTERNAL, at most one holder per slot and
 * only a live socket whose token may hold it, and no socket ever heard of a stream its token
 * does not cover (nor another stream's passphrase, nor in `always` mode a non-relayed address).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { ERRORS } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { coversStream } from '../permissions.js';
import { clientMessage, endpoint, STREAMS } from '../test/arbitraries.js';
import { fuzzFile, jsonish, mutateObject } from '../test/fuzz.js';
import type { TokenClaims } from '../token/claims.js';
import { KeyRing, signToken } from '../token/token.js';
import type { ServerMessage } from '../wire/to-client.js';
import { BindRegistry } from './bindings.js';
import type { SessionRecord } from './record.js';
import { Room, type RoomDeps } from './room.js';
import { FakeConn, MemoryStore } from './test/room-fixture.js';

const fuzzIt = fuzzFile('room');

const T0 = 1_741_234_000_000;
const T0S = T0 / 1000;
const TTL = 1800;
const PASSPHRASES: Record<string, string> = {
  'cam-wide': 'WideWideWideWideWideWideWide0001',
  'cam-close': 'CloseCloseCloseCloseClose0000002',
};
const keysPromise = KeyRing.fromSecrets('room-fuzz-secret-0123456789abcdef-xyz');

// ---- commands ---------------------------------------------------------------------------------

type Role = 'sender' | 'receiver';
type Ep = { ip: string; port: number };
type Scope = 'admin' | 'peer-all' | 'cam-wide' | 'cam-close' | 'cam-3';
type Command =
  | { c: 'join'; scope: Scope; short: number | null }
  | { c: 'frame'; who: number; text: string | null }
  | { c: 'register'; who: number; stream: string; role: Role; takeover: boolean }
  | {
      c: 'claim';
      who: number;
      stream: string;
      role: Role;
      own: boolean;
      relay: Ep | null;
      local: Ep[];
    }
  | { c: 'observe'; bind: number; ep: { ip: string; port: number } }
  | { c: 'leave'; who: number }
  | { c: 'tally'; program: string[]; preview: string[] }
  | { c: 'extend'; by: number }
  | { c: 'tick'; ms: number }
  | { c: 'hibernate' }
  | { c: 'close' };

const frameText = (): fc.Arbitrary<string | null> =>
  fc.oneof(
    { weight: 8, arbitrary: clientMessage().map((m) => JSON.stringify(m)) },
    { weight: 3, arbitrary: mutateObject(clientMessage()).map((m) => JSON.stringify(m)) },
    { weight: 1, arbitrary: jsonish().map((v) => JSON.stringify(v) ?? '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constant(null) },
  );

const role = (): fc.Arbitrary<Role> => fc.constantFrom<Role>('sender', 'receiver');

/** Weighted so that most runs see registrations, endpoints and pairs before any end. */
const command = (): fc.Arbitrary<Command> =>
  fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record({
        c: fc.constant('join' as const),
        scope: fc.constantFrom<Scope>('admin', 'peer-all', 'cam-wide', 'cam-close', 'cam-3'),
        short: fc.option(fc.integer({ min: 1, max: 3 * TTL }), { nil: null, freq: 3 }),
      }),
    },
    {
      weight: 25,
      arbitrary: fc.record({ c: fc.constant('frame' as const), who: fc.nat(), text: frameText() }),
    },
    {
      weight: 30,
      arbitrary: fc.record({
        c: fc.constant('register' as const),
        who: fc.nat(),
        stream: fc.constantFrom(...STREAMS),
        role: role(),
        takeover: fc.boolean(),
      }),
    },
    {
      weight: 20,
      arbitrary: fc.record({
        c: fc.constant('claim' as const),
        who: fc.nat(),
        stream: fc.constantFrom(...STREAMS),
        role: role(),
        own: fc.boolean(),
        relay: fc.option(endpoint(), { nil: null }),
        local: fc.array(endpoint(), { maxLength: 2 }),
      }),
    },
    {
      weight: 15,
      arbitrary: fc.record({ c: fc.constant('observe' as const), bind: fc.nat(), ep: endpoint() }),
    },
    { weight: 3, arbitrary: fc.record({ c: fc.constant('leave' as const), who: fc.nat() }) },
    {
      weight: 3,
      arbitrary: fc.record({
        c: fc.constant('tally' as const),
        program: fc.subarray([...STREAMS]),
        preview: fc.subarray([...STREAMS]),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        c: fc.constant('extend' as const),
        by: fc.integer({ min: -100, max: 3600 }),
      }),
    },
    {
      weight: 10,
      arbitrary: fc.record({
        c: fc.constant('tick' as const),
        ms: fc.integer({ min: 0, max: 8000 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        c: fc.constant('tick' as const),
        ms: fc.integer({ min: 0, max: 4 * TTL * 1000 }),
      }),
    },
    { weight: 3, arbitrary: fc.constant({ c: 'hibernate' as const }) },
    { weight: 1, arbitrary: fc.constant({ c: 'close' as const }) },
  );

// ---- the world --------------------------------------------------------------------------------

function claimsOf(scope: Scope, exp: number): TokenClaims {
  if (scope === 'admin') return { session: 'show', role: 'admin', stream: null, exp };
  return { session: 'show', role: 'peer', stream: scope === 'peer-all' ? null : scope, exp };
}

class World {
  clock = T0;
  readonly conns: FakeConn[] = [];
  /** Per socket: how many of its messages were checked already, and the streams it named. */
  readonly checked = new Map<FakeConn, number>();
  readonly named = new Map<FakeConn, Set<string>>();
  readonly usernames: string[] = [];
  /** Sockets the host saw close (it called `leave`). */
  readonly gone = new Set<FakeConn>();
  /** The slots each socket was told it holds (`registered`). */
  readonly told = new Map<FakeConn, Set<string>>();
  readonly errors: unknown[] = [];
  readonly bindings = new BindRegistry();
  readonly deps: RoomDeps;
  record: SessionRecord;
  room: Room;

  constructor(
    keys: KeyRing,
    relay: 'auto' | 'always',
    tight: boolean,
    readonly relayCheck: boolean,
  ) {
    const log: Logger = { ...silentLogger, error: (fields) => this.errors.push(fields) };
    this.record = {
      id: 'show',
      instance: 'inst0001',
      streams: [...STREAMS],
      passphrase: PASSPHRASES['cam-wide'] ?? '',
      passphrases: PASSPHRASES,
      pbkeylen: 24,
      latencyMs: 250,
      relay,
      createdAt: T0S,
      expiresAt: T0S + TTL,
      tally: { program: [], preview: [] },
    };
    this.deps = {
      store: new MemoryStore(),
      log,
      now: () => this.clock,
      sign: (claims) => signToken(keys, claims),
      bindings: this.bindings,
      ...(tight ? { messageLimit: { limit: 4, windowMs: 1000 } } : {}),
      // A host running the relay knows its allocations: here, those on an even port.
      ...(relayCheck ? { relayHolds: (_s: string, e: { port: number }) => e.port % 2 === 0 } : {}),
    };
    this.room = new Room(this.record, this.deps);
  }

  async run(cmd: Command): Promise<void> {
    const pick = (n: number): FakeConn | undefined =>
      this.conns[n % Math.max(1, this.conns.length)];
    switch (cmd.c) {
      case 'join': {
        const exp =
          cmd.short === null ? this.record.expiresAt : Math.floor(this.clock / 1000) + cmd.short;
        const n = this.conns.length;
        const c = new FakeConn(`c${n}`, claimsOf(cmd.scope, exp), `198.51.100.${n + 1}`);
        this.conns.push(c);
        this.named.set(c, new Set());
        this.room.join(c);
        return;
      }
      case 'frame': {
        const c = pick(cmd.who);
        if (c === undefined || c.closedWith !== undefined) return;
        const m = /"stream":"([^"]*)"/.exec(cmd.text ?? '');
        if (m?.[1] !== undefined) this.named.get(c)?.add(m[1]);
        this.room.receive(c, cmd.text);
        return;
      }
      case 'register':
      case 'claim': {
        const c = pick(cmd.who);
        if (c === undefined || c.closedWith !== undefined) return;
        const m =
          cmd.c === 'register'
            ? { type: 'register', stream: cmd.stream, role: cmd.role, takeover: cmd.takeover }
            : {
                type: 'endpoint',
                stream: cmd.stream,
                role: cmd.role,
                ...(cmd.own ? { public: { ip: c.ip, port: 40000 } } : {}),
                ...(cmd.relay === null ? {} : { relay: cmd.relay }),
                local: cmd.local,
              };
        return this.run({ c: 'frame', who: cmd.who, text: JSON.stringify(m) });
      }
      case 'observe': {
        // As the host's STUN server does: the username's registration, if it has one.
        const username = this.usernames[cmd.bind % Math.max(1, this.usernames.length)] ?? 'nobody';
        const target = this.bindings.get(username);
        if (target !== undefined) this.room.observe(username, target.stream, target.role, cmd.ep);
        return;
      }
      case 'leave': {
        const c = pick(cmd.who);
        if (c === undefined) return;
        this.room.leave(c);
        this.gone.add(c);
        return;
      }
      case 'tally':
        this.room.setTally({ program: cmd.program, preview: cmd.preview });
        return;
      case 'extend':
        if (!this.room.closed) await this.room.extend(this.record.expiresAt + cmd.by);
        return;
      case 'tick':
        this.clock += cmd.ms;
        if (this.room.tick(this.clock)) this.room.close('expired');
        return;
      case 'hibernate': {
        // A Durable Object evicted: a new room over the stored record takes every socket back.
        if (this.room.closed) return;
        const snaps = this.conns.map((c) => [c, this.room.snapshot(c)] as const);
        this.record = structuredClone(this.record);
        this.room = new Room(this.record, this.deps);
        for (const [c, snap] of snaps) if (snap !== undefined) this.room.resume(c, snap);
        this.room.settle();
        return;
      }
      case 'close':
        this.room.close('closed');
        return;
    }
  }

  /** The invariants, after every step. */
  check(step: string): void {
    expect(this.errors, step).toEqual([]);
    const believed = new Map<string, FakeConn>();
    for (const c of this.conns) {
      this.checkMessages(step, c);
      const snap = this.room.snapshot(c);
      // A socket the room closed is out of the room (the host's `leave` would find nothing).
      if (c.closedWith !== undefined) {
        expect(snap, `${step}: ${c.id} closed but kept`).toBeUndefined();
        continue;
      }
      if (this.gone.has(c)) continue;
      // What `GET /api/session/:id` shows this token: its streams only, tally included.
      const view = this.room.view(c.claims);
      const shown = [
        ...view.streams.map((v) => v.name),
        ...view.tally.program,
        ...view.tally.preview,
      ];
      for (const name of shown) {
        expect(coversStream(c.claims, name), `${step}: ${c.id} is shown ${name}`).toBe(true);
      }
      // A live socket holds exactly the slots it was told it holds (`registered`): a slot is
      // lost only with the socket (replaced, expired, closed), never silently.
      const told = [...(this.told.get(c) ?? [])].sort();
      const held = (snap?.slots ?? []).map((x) => `${x.stream}/${x.role}`).sort();
      expect(held, `${step}: ${c.id} holds other slots than it was told`).toEqual(told);
      for (const key of told) {
        const other = believed.get(key);
        expect(
          other?.id,
          `${step}: ${c.id} and ${other?.id ?? ''} both hold ${key}`,
        ).toBeUndefined();
        believed.set(key, c);
      }
      for (const x of snap?.slots ?? []) {
        // Only a token that may hold it: its stream, and never a sender for an all-streams peer.
        expect(coversStream(c.claims, x.stream), `${step}: ${c.id} holds ${x.stream}`).toBe(true);
        if (c.claims.role === 'peer' && c.claims.stream === null) expect(x.role).toBe('receiver');
      }
    }
  }

  checkMessages(step: string, c: FakeConn): void {
    const from = this.checked.get(c) ?? 0;
    this.checked.set(c, c.sent.length);
    for (const m of c.sent.slice(from)) {
      // Built only for a failure: stringifying every message would cost most of the run.
      const ok = (cond: boolean): void => {
        if (cond) return;
        const scope = `${c.claims.role}/${c.claims.stream ?? '*'}`;
        expect.fail(`${step}: ${c.id} (${scope}) got ${JSON.stringify(m)}`);
      };
      if (m.type === 'error') {
        ok(m.code in ERRORS && m.code !== 'ERR_INTERNAL');
        // An error names only a stream this socket named itself.
        if (m.stream !== undefined) ok(this.named.get(c)?.has(m.stream) === true);
        // One slot taken from a socket that keeps its others: it was told which.
        if (m.code === 'ERR_REPLACED' && m.role !== undefined)
          ok(this.told.get(c)?.delete(`${m.stream ?? ''}/${m.role}`) === true);
        continue;
      }
      for (const s of streamsIn(m)) ok(coversStream(c.claims, s));
      if (m.type === 'registered') {
        if (m.bind !== null) this.usernames.push(m.bind.username);
        const told = this.told.get(c) ?? new Set<string>();
        told.add(`${m.stream}/${m.role}`);
        this.told.set(c, told);
      }
      if (m.type === 'peer') {
        ok(m.passphrase === PASSPHRASES[m.stream]);
        // IP privacy: in `always` mode a peer learns the other side's relayed address only.
        if (this.record.relay === 'always') {
          const { ip, port, local, relay } = m.remote;
          ok(local === undefined && relay?.ip === ip && relay.port === port);
        }
        // Never a relayed address the host's relay does not hold for this session.
        if (this.relayCheck && m.remote.relay !== undefined) ok(m.remote.relay.port % 2 === 0);
      }
    }
  }
}

/** Every stream a message is about. */
function streamsIn(m: ServerMessage): string[] {
  switch (m.type) {
    case 'registered':
    case 'peer':
    case 'peer-left':
    case 'health':
      return [m.stream];
    case 'stream':
      return [m.name];
    case 'tally':
      return [...m.program, ...m.preview];
    case 'welcome':
      return [...m.tally.program, ...m.tally.preview, ...(m.stream === null ? [] : [m.stream])];
    default:
      return [];
  }
}

fuzzIt(
  'any sequence keeps one holder per slot and never leaks another stream',
  1_500,
  fc.asyncProperty(
    fc.constantFrom('auto' as const, 'always' as const),
    fc.boolean(),
    fc.boolean(),
    fc.array(fc.constantFrom<Scope>('admin', 'peer-all', 'cam-wide', 'cam-close', 'cam-3'), {
      minLength: 2,
      maxLength: 6,
    }),
    fc.array(command(), { minLength: 5, maxLength: 40, size: 'max' }),
    async (relay, tight, relayCheck, scopes, commands) => {
      const w = new World(await keysPromise, relay, tight, relayCheck);
      const joins = scopes.map((scope): Command => ({ c: 'join', scope, short: null }));
      for (const [i, cmd] of [...joins, ...commands].entries()) {
        await w.run(cmd);
        w.check(`step ${i} (${cmd.c})`);
      }
    },
  ),
  60_000,
);
