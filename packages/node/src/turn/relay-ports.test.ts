import { describe, expect, it } from 'vitest';
import { RelayPortPool, parsePortRange } from './relay-ports.js';

describe('RelayPortPool', () => {
  it('hands out every port of the range once, then nothing', () => {
    const pool = new RelayPortPool(50000, 50009);
    const got = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const port = pool.acquire();
      expect(port).toBeDefined();
      got.add(port ?? 0);
    }
    expect([...got].sort()).toEqual(Array.from({ length: 10 }, (_, i) => 50000 + i));
    expect(pool.acquire()).toBeUndefined();
    expect(pool.used).toBe(10);
  });

  it('hands a released port out again', () => {
    const pool = new RelayPortPool(60000, 60001);
    const a = pool.acquire() ?? 0;
    pool.acquire();
    expect(pool.acquire()).toBeUndefined();
    pool.release(a);
    expect(pool.acquire()).toBe(a);
    pool.release(12345); // never handed out: no effect
    expect(pool.used).toBe(2);
  });

  it('refuses a bad range', () => {
    expect(() => new RelayPortPool(0, 10)).toThrow(RangeError);
    expect(() => new RelayPortPool(100, 99)).toThrow(RangeError);
    expect(() => new RelayPortPool(1, 65536)).toThrow(RangeError);
  });
});

describe('parsePortRange', () => {
  it('parses LOW-HIGH and refuses the rest', () => {
    expect(parsePortRange('49152-65535')).toEqual([49152, 65535]);
    expect(parsePortRange(' 5000-5000 ')).toEqual([5000, 5000]);
    for (const bad of ['', '5000', '5000-', '0-10', '10-5', '1-65536', 'a-b', '1-2-3']) {
      expect(parsePortRange(bad)).toBeUndefined();
    }
  });
});

describe('RelayPortPool for EVEN-PORT', () => {
  it('hands out even ports, and a pair takes the next one too', () => {
    const pool = new RelayPortPool(50000, 50003);
    const even = pool.acquire({ even: true }) ?? 1;
    expect(even % 2).toBe(0);
    const pair = pool.acquire({ pair: true }) ?? 1;
    expect(pair % 2).toBe(0);
    expect(pool.used).toBe(3);
    expect(pool.acquire({ pair: true })).toBeUndefined(); // only an odd port is left
    pool.release(pair);
    pool.release(pair + 1);
    expect(pool.acquire({ pair: true })).toBe(pair);
  });

  it('never pairs the last port of the range with one beyond it', () => {
    const pool = new RelayPortPool(50000, 50000);
    expect(pool.acquire({ pair: true })).toBeUndefined();
    expect(pool.acquire({ even: true })).toBe(50000);
  });
});
