/**
 * The room under test and its fakes, shared by the `room.*.test.ts` files. Each test file
 * calls `resetFixture()` in a `beforeEach`, then reads and sets `fx` (the clock, the room).
 */
import type { PunchError } from '../../errors.js';
import { silentLogger } from '../../logger.js';
import type { TokenClaims } from '../../token/claims.js';
import { KeyRing, signToken } from '../../token/token.js';
import type { Endpoint, RelayCredentials } from '../../wire/common.js';
import type { ServerMessage } from '../../wire/to-client.js';
import { BindRegistry } from '../bindings.js';
import type { Conn } from '../conn.js';
import type { HealthSample, SessionRecord, SessionStore } from '../record.js';
import { Room } from '../room.js';

// ---- fakes ------------------------------------------------------------------------------------

export class FakeConn implements Conn {
  readonly sent: ServerMessage[] = [];
  closedWith: { code: number; reason: string } | undefined;
  relay?: RelayCredentials | null;
  constructor(
    readonly id: string,
    public claims: TokenClaims,
    readonly ip = '203.0.113.10',
    readonly stun: { host: string; port: number } | null = { host: 'punch.test', port: 3478 },
  ) {}
  send(message: ServerMessage): void {
    this.sent.push(message);
  }
  close(err: PunchError): void {
    this.closedWith = { code: err.closeCode, reason: err.code };
  }
  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.sent.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }
  /** The last message other than a `stream` state push (those have their own tests). */
  last(): ServerMessage | undefined {
    return this.sent.filter((m) => m.type !== 'stream').at(-1);
  }
  errors(): string[] {
    return this.of('error').map((e) => e.code);
  }
}

export class MemoryStore implements SessionStore {
  readonly saved: SessionRecord[] = [];
  readonly health: { session: string; sample: HealthSample }[] = [];
  readonly deleted: string[] = [];
  saveSession(record: SessionRecord): void {
    this.saved.push(structuredClone(record));
  }
  appendHealth(session: string, sample: HealthSample): void {
    this.health.push({ session, sample });
  }
  healthHistory(session: string, streams: readonly string[] | null, limit: number): HealthSample[] {
    return this.health
      .filter(
        (h) => h.session === session && (streams === null || streams.includes(h.sample.stream)),
      )
      .map((h) => h.sample)
      .slice(-limit);
  }
  deleteSession(session: string): void {
    this.deleted.push(session);
  }
}

// ---- fixture ----------------------------------------------------------------------------------

export const T0 = 1_741_234_000_000; // ms
export const T0S = T0 / 1000;
export const TTL = 1800;
export const PASSPHRASE = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345';

interface Fixture {
  /** What the room's clock reads, in milliseconds. */
  clock: number;
  store: MemoryStore;
  bindings: BindRegistry;
  keys: KeyRing;
  room: Room;
  /** How many times the room called `onPaired`. */
  paired: number;
}

/** The current test's room and surroundings (a fresh one per test, from `resetFixture`). */
export let fx: Fixture;
let nextId = 0;

export async function resetFixture(): Promise<void> {
  const keys = await KeyRing.fromSecrets('room-test-secret-0123456789abcdef-xyz');
  const env = {
    clock: T0,
    store: new MemoryStore(),
    bindings: new BindRegistry(),
    keys,
    paired: 0,
  };
  fx = Object.assign(env, { room: roomIn(env) });
}

/** A room over the current fixture's clock, store and registry (a fresh `fx.room` for a test). */
export function makeRoom(over: Partial<SessionRecord> = {}): Room {
  return roomIn(fx, over);
}

function roomIn(env: Omit<Fixture, 'room'>, over: Partial<SessionRecord> = {}): Room {
  const record: SessionRecord = {
    id: 'show',
    instance: 'inst0001',
    streams: ['cam-wide', 'cam-close'],
    passphrase: PASSPHRASE,
    pbkeylen: 24,
    latencyMs: 250,
    relay: 'auto',
    createdAt: T0S,
    expiresAt: T0S + TTL,
    tally: { program: [], preview: [] },
    ...over,
  };
  return new Room(record, {
    store: env.store,
    log: silentLogger,
    now: () => env.clock,
    sign: (claims) => signToken(env.keys, claims),
    bindings: env.bindings,
    onPaired: () => {
      env.paired++;
    },
  });
}

export const adminClaims = (over: Partial<TokenClaims> = {}): TokenClaims => ({
  session: 'show',
  role: 'admin',
  stream: null,
  exp: T0S + TTL,
  ...over,
});
export const peerClaims = (
  stream: string | null,
  over: Partial<TokenClaims> = {},
): TokenClaims => ({
  session: 'show',
  role: 'peer',
  stream,
  exp: T0S + TTL,
  ...over,
});

export function join(claims: TokenClaims, ip?: string, stun?: FakeConn['stun']): FakeConn {
  const c = new FakeConn(`c${++nextId}`, claims, ip, stun);
  fx.room.join(c);
  return c;
}

export const send = (c: FakeConn, m: unknown): void => {
  fx.room.receive(c, JSON.stringify(m));
};

export function register(c: FakeConn, stream: string, role: 'sender' | 'receiver'): string {
  send(c, { type: 'register', stream, role });
  const r = c.last();
  if (r?.type !== 'registered') throw new Error(`not registered: ${JSON.stringify(r)}`);
  return r.bind?.username ?? '';
}

/** Registers a sender and a receiver on `stream` and gives both an endpoint by STUN. */
export function pairUp(stream = 'cam-wide'): {
  s: FakeConn;
  r: FakeConn;
  su: string;
  ru: string;
  se: Endpoint;
  re: Endpoint;
} {
  const s = join(adminClaims(), '198.51.100.1');
  const r = join(adminClaims(), '198.51.100.2');
  const su = register(s, stream, 'sender');
  const ru = register(r, stream, 'receiver');
  const se = { ip: '198.51.100.1', port: 40001 };
  const re = { ip: '198.51.100.2', port: 50002 };
  fx.room.observe(su, stream, 'sender', se);
  fx.room.observe(ru, stream, 'receiver', re);
  return { s, r, su, ru, se, re };
}

export const stateOf = (stream: string): string => {
  const v = fx.room.view(adminClaims()).streams.find((s) => s.name === stream);
  if (v === undefined) throw new Error(`no stream ${stream}`);
  return v.state;
};
