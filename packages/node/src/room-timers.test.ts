import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AUDIT_WINDOW_MS,
  PEER_TOKEN_SKEW,
  PunchError,
  Revocations,
  Room,
  silentLogger,
  type AuditEvent,
  type PeerIdentity,
  type SignalConn,
  type SignalServerMessage,
} from '@punch/core';
import { AUDIT_FLUSH_MS, PRUNE_EVERY_MS, RoomTimers } from './room-timers.js';
import { SignalRooms } from './signal-rooms.js';
import { SqliteStore } from './store.js';

const T0 = 1_760_000_000_000;
const T0S = T0 / 1000;

class Peer implements SignalConn {
  readonly sent: SignalServerMessage[] = [];
  readonly closes: string[] = [];
  readonly stun = null;
  constructor(
    readonly id: string,
    public identity: PeerIdentity,
  ) {}
  send(message: SignalServerMessage): void {
    this.sent.push(message);
  }
  close(err: PunchError): void {
    this.closes.push(err.code);
  }
}

const identity = (peer: string, expiresAt: number): PeerIdentity => ({
  project: 'prj_timers',
  kid: 'kid-1',
  group: 'g',
  peer,
  allow: [{ group: '*', peer: '*' }],
  expiresAt,
});

describe('RoomTimers', () => {
  let dir: string;
  let store: SqliteStore;
  let flushes: number;
  let auditPrunes: number[];
  let timers: RoomTimers;

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    dir = mkdtempSync(join(tmpdir(), 'punch-timers-'));
    store = new SqliteStore(join(dir, 'punch.sqlite'));
    flushes = 0;
    auditPrunes = [];
    timers = new RoomTimers({
      now: Date.now,
      health: store,
      audit: {
        flush: () => {
          flushes++;
        },
        pruneAudit: (before) => auditPrunes.push(before),
      },
      auditKeepMs: 86_400_000,
      revocations: new Revocations(),
    });
  });
  afterEach(() => {
    timers.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
    vi.useRealTimers();
  });

  it('prunes every minute what has outlived its keep', () => {
    vi.advanceTimersByTime(PRUNE_EVERY_MS - 1);
    expect(auditPrunes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(auditPrunes).toEqual([T0 + PRUNE_EVERY_MS - 86_400_000]);
  });

  it('closes a session at its expiry, and not a moment before', () => {
    const closed: string[] = [];
    const record = {
      id: 'show',
      instance: 'inst-show',
      streams: ['cam-1'],
      passphrase: 'timers-passphrase-01',
      pbkeylen: 16 as const,
      latencyMs: 120,
      relay: 'auto' as const,
      createdAt: T0S,
      expiresAt: T0S + 5,
      tally: { program: [], preview: [] },
    };
    store.saveSession(record);
    const room = new Room(record, {
      store,
      log: silentLogger,
      now: Date.now,
      sign: () => Promise.resolve('unused'),
      bindings: null,
      onClosed: (r, reason) => {
        closed.push(reason);
        timers.sessionClosed(r);
      },
    });
    timers.session(room);
    expect(timers.sessions).toBe(1);
    vi.advanceTimersByTime(4999);
    expect(room.closed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(closed).toEqual(['expired']);
    expect(store.rowCounts('show').sessions).toBe(0);
    expect(timers.sessions).toBe(0);
  });

  it('closes a signalling peer whose token expired, woken by its deadline alone', () => {
    const rooms = new SignalRooms(
      {
        log: silentLogger,
        now: Date.now,
        verify: () => Promise.reject(new PunchError('ERR_TOKEN_SIGNATURE')),
        revocations: new Revocations(),
        iceServers: () => Promise.resolve([]),
        audit: () => undefined,
      },
      timers,
    );
    const room = rooms.room('prj_timers');
    const alice = new Peer('a', identity('alice', T0S + 10));
    room.join(alice, []);
    timers.signal(room);
    const due = (T0S + 10 + PEER_TOKEN_SKEW) * 1000 - T0;
    vi.advanceTimersByTime(due - 1);
    expect(alice.closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(alice.closes).toEqual(['ERR_TOKEN_EXPIRED']);
    expect(rooms.get('prj_timers')).toBeUndefined();
  });

  it('a signal audited starts a window the room is woken to forget; audit flushes within 1 s', () => {
    const audited: AuditEvent[] = [];
    const rooms = new SignalRooms(
      {
        log: silentLogger,
        now: Date.now,
        verify: () => Promise.reject(new PunchError('ERR_TOKEN_SIGNATURE')),
        revocations: new Revocations(),
        iceServers: () => Promise.resolve([]),
        audit: (e) => {
          audited.push(e);
        },
      },
      timers,
    );
    const room = rooms.room('prj_timers');
    const tick = vi.spyOn(room, 'tick');
    const alice = new Peer('a', identity('alice', T0S + 86_400));
    const bob = new Peer('b', identity('bob', T0S + 86_400));
    room.join(alice, []);
    room.join(bob, []);
    timers.signal(room);
    const signal = JSON.stringify({ type: 'signal', to: { group: 'g', peer: 'bob' }, payload: 1 });
    room.receive(alice, signal);
    expect(bob.sent.some((m) => m.type === 'signal')).toBe(true);
    expect(audited.map((e) => e.outcome)).toEqual(['connected', 'connected', 'delivered']);
    expect(room.nextTickAt()).toBe(T0 + AUDIT_WINDOW_MS);

    // Buffered events are written once, AUDIT_FLUSH_MS after the first.
    expect(flushes).toBe(0);
    vi.advanceTimersByTime(AUDIT_FLUSH_MS);
    expect(flushes).toBe(1);

    vi.advanceTimersByTime(AUDIT_WINDOW_MS - AUDIT_FLUSH_MS - 1);
    expect(tick).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(tick).toHaveBeenCalledTimes(1);
    // The window is forgotten: the next deadline is the tokens' expiry again.
    expect(room.nextTickAt()).toBe((T0S + 86_400 + PEER_TOKEN_SKEW) * 1000);
    expect(flushes).toBe(1);
  });
});
