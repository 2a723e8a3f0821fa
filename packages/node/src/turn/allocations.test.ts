import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Allocation,
  AllocationTable,
  CHANNEL_LIFETIME_S,
  MAX_PERMISSIONS,
  PERMISSION_LIFETIME_S,
} from './allocations.js';
import { TokenBucket } from './bandwidth.js';

const T0 = 1_800_000_000_000;

function allocation(n: number, username = 'u', closed: number[] = []): Allocation {
  return new Allocation({
    client: {
      ip: '192.0.2.1',
      port: 40000 + n,
      transport: 'udp',
      closed: false,
      send: () => true,
    },
    username,
    key: new Uint8Array(16),
    transactionId: new Uint8Array(12),
    relay: {
      address: { ip: '198.51.100.1', port: 50000 + n, family: 4 },
      send: () => undefined,
      close: () => {
        closed.push(n);
      },
    },
    maxBps: 8000,
    now: T0,
  });
}

describe('AllocationTable', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires an allocation by its timer, and Refresh moves the timer', () => {
    const closed: number[] = [];
    const table = new AllocationTable({ maxTotal: 10, maxPerUsername: 10 });
    const a = allocation(1, 'u', closed);
    table.add(a, 600, Date.now());
    expect(table.get(a.client)).toBe(a);
    expect(table.byRelay('198.51.100.1', 50001)).toBe(a);
    vi.advanceTimersByTime(599_000);
    table.refresh(a, 600, Date.now());
    vi.advanceTimersByTime(599_000);
    expect(table.size).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(table.size).toBe(0);
    expect(table.get(a.client)).toBeUndefined();
    expect(table.byRelay('198.51.100.1', 50001)).toBeUndefined();
    expect(closed).toEqual([1]);
    expect(table.allocated).toBe(1);
  });

  it('deletes at once (Refresh with LIFETIME 0) and only once', () => {
    const closed: number[] = [];
    const table = new AllocationTable({ maxTotal: 10, maxPerUsername: 10 });
    const a = allocation(1, 'u', closed);
    table.add(a, 600, Date.now());
    table.delete(a);
    table.delete(a);
    vi.advanceTimersByTime(600_000);
    expect(closed).toEqual([1]);
  });

  it('caps allocations per username and in total', () => {
    const table = new AllocationTable({ maxTotal: 3, maxPerUsername: 2 });
    table.add(allocation(1, 'a'), 600, Date.now());
    expect(table.quota('a')).toBe('ok');
    table.add(allocation(2, 'a'), 600, Date.now());
    expect(table.quota('a')).toBe('username');
    expect(table.quota('b')).toBe('ok');
    table.add(allocation(3, 'b'), 600, Date.now());
    expect(table.quota('c')).toBe('total');
    const first = table.get({ ip: '192.0.2.1', port: 40001, transport: 'udp' });
    if (first !== undefined) table.delete(first);
    expect(table.quota('a')).toBe('ok');
    table.clear();
    expect(table.size).toBe(0);
  });
});

describe('Allocation', () => {
  it('keeps a permission for 300 s from its last refresh', () => {
    const a = allocation(1);
    expect(a.hasPermission('203.0.113.1', T0)).toBe(false);
    expect(a.permit('203.0.113.1', T0)).toBe(true);
    const end = T0 + PERMISSION_LIFETIME_S * 1000;
    expect(a.hasPermission('203.0.113.1', end - 1)).toBe(true);
    expect(a.hasPermission('203.0.113.1', end)).toBe(false);
    a.permit('203.0.113.1', end - 1);
    expect(a.hasPermission('203.0.113.1', end + 1000)).toBe(true);
  });

  it('bounds the permissions one allocation holds, reusing expired ones', () => {
    const a = allocation(1);
    for (let i = 0; i < MAX_PERMISSIONS; i++)
      expect(a.permit(`203.0.${i >> 8}.${i & 255}`, T0)).toBe(true);
    expect(a.permit('198.51.100.9', T0)).toBe(false);
    expect(a.permit('198.51.100.9', T0 + PERMISSION_LIFETIME_S * 1000)).toBe(true);
  });

  it('binds channels for 600 s, refusing a second number for the same peer and vice versa', () => {
    const a = allocation(1);
    const peer = { ip: '203.0.113.1', port: 5000, family: 4 as const };
    const other = { ip: '203.0.113.2', port: 5000, family: 4 as const };
    expect(a.bindChannel(0x4000, peer, T0)).toBe('ok');
    expect(a.bindChannel(0x4000, peer, T0 + 1000)).toBe('ok'); // a refresh
    expect(a.bindChannel(0x4000, other, T0)).toBe('conflict');
    expect(a.bindChannel(0x4001, peer, T0)).toBe('conflict');
    expect(a.channelPeer(0x4000, T0)).toEqual(peer);
    expect(a.channelOf('203.0.113.1', 5000, T0)).toBe(0x4000);
    const end = T0 + 1000 + CHANNEL_LIFETIME_S * 1000;
    expect(a.channelPeer(0x4000, end - 1)).toEqual(peer);
    expect(a.channelPeer(0x4000, end)).toBeUndefined();
    expect(a.channelOf('203.0.113.1', 5000, end)).toBeUndefined();
    // Once expired, both the number and the peer may be bound anew.
    expect(a.bindChannel(0x4000, other, end)).toBe('ok');
    expect(a.bindChannel(0x4001, peer, end)).toBe('ok');
    expect(a.channelOf('203.0.113.1', 5000, end)).toBe(0x4001);
    expect(a.channelOf('203.0.113.2', 5000, end)).toBe(0x4000);
  });
});

describe('TokenBucket', () => {
  it('passes a second of traffic at once, then refills at the rate', () => {
    const bucket = new TokenBucket(8000, T0); // 1000 bytes per second
    expect(bucket.take(600, T0)).toBe(true);
    expect(bucket.take(600, T0)).toBe(false);
    expect(bucket.take(400, T0)).toBe(true);
    expect(bucket.take(1, T0)).toBe(false);
    expect(bucket.take(500, T0 + 500)).toBe(true);
    expect(bucket.take(1000, T0 + 10_000)).toBe(true); // refilled, but never past one second's worth
    expect(bucket.take(1, T0 + 10_000)).toBe(false);
  });
});
