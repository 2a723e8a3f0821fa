import { describe, expect, it, vi } from 'vitest';
import { Emitter } from './emitter.js';

interface Events {
  n: number;
  s: string;
}

describe('Emitter', () => {
  it('calls listeners with the value; on() returns an unsubscribe; once() fires once', () => {
    const e = new Emitter<Events>();
    const got: unknown[] = [];
    const off = e.on('n', (n) => got.push(n));
    e.once('n', (n) => got.push(`once ${n}`));
    e.on('s', (s) => got.push(s));
    e.emit('n', 1);
    e.emit('n', 2);
    e.emit('s', 'x');
    off();
    e.emit('n', 3);
    expect(got).toEqual([1, 'once 1', 2, 'x']);
    expect(e.listenerCount('n')).toBe(0);
  });

  it('off() removes a listener; the unsubscribe of once() works before it fired', () => {
    const e = new Emitter<Events>();
    const fn = vi.fn();
    e.on('n', fn);
    e.off('n', fn);
    e.once('n', fn)();
    e.emit('n', 1);
    expect(fn).not.toHaveBeenCalled();
  });

  it('keeps a throwing listener from stopping the others, and reports its error', () => {
    const e = new Emitter<Events>();
    const after = vi.fn();
    const boom = new Error('boom');
    e.on('n', () => {
      throw boom;
    });
    e.on('n', after);
    // The error is rethrown in a microtask: catch that microtask instead of letting it throw.
    const deferred: (() => void)[] = [];
    const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((fn) => {
      deferred.push(fn);
    });
    e.emit('n', 1);
    spy.mockRestore();
    expect(after).toHaveBeenCalledWith(1);
    expect(deferred).toHaveLength(1);
    expect(() => {
      deferred[0]!();
    }).toThrow(boom);
  });

  it('buffers chosen events until the first listener, in order, and only those', async () => {
    const e = new Emitter<Events>({ buffer: ['n'] });
    e.emit('n', 1);
    e.emit('n', 2);
    e.emit('s', 'lost');
    const got: unknown[] = [];
    e.on('n', (n) => got.push(n));
    e.on('s', (s) => got.push(s));
    e.emit('n', 3); // after subscribing but before the buffered ones went out: kept in order
    expect(got).toEqual([]);
    await Promise.resolve();
    expect(got).toEqual([1, 2, 3]);
    e.emit('n', 4);
    expect(got).toEqual([1, 2, 3, 4]);
  });
});
