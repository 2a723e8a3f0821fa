import { describe, expect, it } from 'vitest';
import { otherRole, SlotRefs } from './slot-ref.js';

describe('otherRole', () => {
  it('is the other side of a stream', () => {
    expect(otherRole('sender')).toBe('receiver');
    expect(otherRole('receiver')).toBe('sender');
  });
});

describe('SlotRefs', () => {
  it('compares refs by value: the same stream and role are one member', () => {
    const refs = new SlotRefs();
    refs.add({ stream: 'cam-wide', role: 'sender' });
    refs.add({ stream: 'cam-wide', role: 'sender' });
    expect(refs.size).toBe(1);
    expect(refs.has({ stream: 'cam-wide', role: 'sender' })).toBe(true);
    expect(refs.has({ stream: 'cam-wide', role: 'receiver' })).toBe(false);
    expect(refs.has({ stream: 'cam-close', role: 'sender' })).toBe(false);
  });

  it('iterates in the order refs were first added, as plain {stream, role}', () => {
    const refs = new SlotRefs();
    refs.add({ stream: 'cam-wide', role: 'sender' });
    refs.add({ stream: 'cam-close', role: 'sender' });
    refs.add({ stream: 'cam-wide', role: 'receiver' });
    refs.add({ stream: 'cam-wide', role: 'sender' });
    // Extra fields of what was added (a snapshot's slot, say) are not kept.
    const resumed = { stream: 'cam-3', role: 'receiver' as const, username: 'x' };
    refs.add(resumed);
    expect([...refs]).toEqual([
      { stream: 'cam-wide', role: 'sender' },
      { stream: 'cam-close', role: 'sender' },
      { stream: 'cam-wide', role: 'receiver' },
      { stream: 'cam-3', role: 'receiver' },
    ]);
  });

  it('gives back exactly the refs added, whatever their stream names hold', () => {
    // Stream names cannot hold "/" today; the set must not depend on that (no key parsed back).
    const refs = new SlotRefs();
    refs.add({ stream: 'a/sender', role: 'receiver' });
    refs.add({ stream: 'a', role: 'sender' });
    expect(refs.size).toBe(2);
    expect([...refs]).toEqual([
      { stream: 'a/sender', role: 'receiver' },
      { stream: 'a', role: 'sender' },
    ]);
    expect(refs.has({ stream: 'a/sender', role: 'receiver' })).toBe(true);
    expect(refs.has({ stream: 'a', role: 'receiver' })).toBe(false);
  });
});
