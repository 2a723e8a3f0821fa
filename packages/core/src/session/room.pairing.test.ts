import { beforeEach, describe, it, expect } from 'vitest';
import {
  resetFixture,
  PASSPHRASE,
  fx,
  adminClaims,
  peerClaims,
  join,
  send,
  register,
  pairUp,
  stateOf,
} from './test/room-fixture.js';

beforeEach(resetFixture);

describe('pairing by STUN observation', () => {
  it('sends peer to BOTH sides in the same call, each with the other side', () => {
    const s = join(peerClaims('cam-wide'), '198.51.100.1');
    const r = join(peerClaims('cam-wide'), '198.51.100.2');
    const su = register(s, 'cam-wide', 'sender');
    const ru = register(r, 'cam-wide', 'receiver');
    const se = { ip: '198.51.100.1', port: 40001 };
    const re = { ip: '198.51.100.2', port: 50002 };

    fx.room.observe(su, 'cam-wide', 'sender', se);
    expect(s.of('peer')).toEqual([]);
    expect(r.of('peer')).toEqual([]);
    expect(stateOf('cam-wide')).toBe('waiting');

    const sBefore = s.sent.length;
    const rBefore = r.sent.length;
    fx.room.observe(ru, 'cam-wide', 'receiver', re);
    expect(s.sent.slice(sBefore, sBefore + 1)).toEqual([
      {
        type: 'peer',
        stream: 'cam-wide',
        role: 'sender',
        remote: re,
        passphrase: PASSPHRASE,
        pbkeylen: 24,
        latencyMs: 250,
      },
    ]);
    expect(r.sent.slice(rBefore, rBefore + 1)).toEqual([
      {
        type: 'peer',
        stream: 'cam-wide',
        role: 'receiver',
        remote: se,
        passphrase: PASSPHRASE,
        pbkeylen: 24,
        latencyMs: 250,
      },
    ]);
    expect(fx.paired).toBe(1);
    // Then the state push, after both have their `peer`.
    expect(s.sent.slice(sBefore + 1).map((m) => m.type)).toEqual(['stream']);
    expect(r.sent.slice(rBefore + 1).map((m) => m.type)).toEqual(['stream']);
  });

  it('unchanged endpoints are not sent again; a changed one re-pairs both', () => {
    const { s, r, su, ru, se, re } = pairUp();
    expect(s.of('peer')).toHaveLength(1);
    expect(r.of('peer')).toHaveLength(1);

    fx.room.observe(su, 'cam-wide', 'sender', { ...se });
    fx.room.observe(ru, 'cam-wide', 'receiver', { ...re });
    expect(s.of('peer')).toHaveLength(1);
    expect(r.of('peer')).toHaveLength(1);

    const moved = { ip: '198.51.100.1', port: 40999 };
    fx.room.observe(su, 'cam-wide', 'sender', moved);
    expect(s.of('peer')).toHaveLength(2);
    expect(r.of('peer')).toHaveLength(2);
    expect(r.of('peer')[1]!.remote).toEqual(moved);
    expect(s.of('peer')[1]!.remote).toEqual(re);
    expect(fx.paired).toBe(2);
  });

  it('ignores observations with a username that is not the slot holder', () => {
    const s = join(adminClaims());
    register(s, 'cam-wide', 'sender');
    fx.room.observe('not-a-username', 'cam-wide', 'sender', { ip: '192.0.2.1', port: 9 });
    expect(fx.room.endpoints('cam-wide').sender).toBeNull();
  });

  it('streams are independent', () => {
    const { s } = pairUp('cam-wide');
    const c = join(adminClaims());
    register(c, 'cam-close', 'sender');
    expect(stateOf('cam-wide')).toBe('paired');
    expect(stateOf('cam-close')).toBe('waiting');
    expect(c.of('peer')).toEqual([]);
    expect(s.of('peer')).toHaveLength(1);
  });

  it('leave → peer-left to the other; on return they are paired again', () => {
    const { s, r, se } = pairUp();
    fx.room.leave(r);
    expect(s.of('peer-left')).toEqual([
      { type: 'peer-left', stream: 'cam-wide', role: 'receiver' },
    ]);
    expect(stateOf('cam-wide')).toBe('waiting');
    expect(fx.bindings.size).toBe(1);

    const r2 = join(adminClaims(), '198.51.100.3');
    const ru2 = register(r2, 'cam-wide', 'receiver');
    const re2 = { ip: '198.51.100.3', port: 50003 };
    const before = s.of('peer').length;
    fx.room.observe(ru2, 'cam-wide', 'receiver', re2);
    expect(s.of('peer').length).toBe(before + 1);
    expect(s.of('peer').at(-1)!.remote).toEqual(re2);
    expect(r2.of('peer')).toHaveLength(1);
    expect(r2.of('peer')[0]!.remote).toEqual(se);
    expect(stateOf('cam-wide')).toBe('paired');
  });

  it('even an unchanged pair is sent again after a leave and return', () => {
    const { s, r, su, se, re } = pairUp();
    fx.room.leave(s);
    const s2 = join(adminClaims(), '198.51.100.1');
    const su2 = register(s2, 'cam-wide', 'sender');
    expect(su2).not.toBe(su);
    fx.room.observe(su2, 'cam-wide', 'sender', se); // same address as before
    expect(s2.of('peer').map((m) => m.remote)).toEqual([re]);
    expect(r.of('peer').map((m) => m.remote)).toEqual([se, se]);
  });
});

describe('endpoint message (hosts without STUN)', () => {
  it('the public IP must equal the connection IP: ERR_ENDPOINT_MISMATCH otherwise', () => {
    const s = join(adminClaims(), '198.51.100.1', null);
    register(s, 'cam-wide', 'sender');
    send(s, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '192.0.2.66', port: 4000 },
    });
    expect(s.errors()).toEqual(['ERR_ENDPOINT_MISMATCH']);
    expect(s.closedWith).toBeUndefined();
    expect(fx.room.endpoints('cam-wide').sender).toBeNull();

    send(s, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '198.51.100.1', port: 4000 },
    });
    expect(s.errors()).toEqual(['ERR_ENDPOINT_MISMATCH']);
    expect(fx.room.endpoints('cam-wide').sender).toEqual({ ip: '198.51.100.1', port: 4000 });
  });

  it('accepts IPv4-mapped IPv6 on either side', () => {
    const s = join(adminClaims(), '::ffff:198.51.100.1', null);
    register(s, 'cam-wide', 'sender');
    send(s, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '198.51.100.1', port: 4000 },
    });
    const r = join(adminClaims(), '198.51.100.2', null);
    register(r, 'cam-wide', 'receiver');
    send(r, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'receiver',
      public: { ip: '::ffff:198.51.100.2', port: 5000 },
    });
    expect(s.errors()).toEqual([]);
    expect(r.errors()).toEqual([]);
    expect(s.of('peer')).toHaveLength(1);
    expect(s.of('peer')[0]!.remote).toEqual({ ip: '::ffff:198.51.100.2', port: 5000 });
  });

  it('pairs with local candidates in remote.local', () => {
    const s = join(adminClaims(), '198.51.100.1', null);
    const r = join(adminClaims(), '198.51.100.2', null);
    register(s, 'cam-wide', 'sender');
    register(r, 'cam-wide', 'receiver');
    const local = [{ ip: '192.168.1.5', port: 9000 }];
    send(s, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '198.51.100.1', port: 4000 },
      local,
    });
    send(r, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'receiver',
      public: { ip: '198.51.100.2', port: 5000 },
    });
    expect(r.of('peer')[0]!.remote).toEqual({ ip: '198.51.100.1', port: 4000, local });
    expect(s.of('peer')[0]!.remote).toEqual({ ip: '198.51.100.2', port: 5000 });
  });

  it('a repeated identical endpoint is not re-sent; a changed local list re-pairs', () => {
    const s = join(adminClaims(), '198.51.100.1', null);
    const r = join(adminClaims(), '198.51.100.2', null);
    register(s, 'cam-wide', 'sender');
    register(r, 'cam-wide', 'receiver');
    const sEndpoint = {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '198.51.100.1', port: 4000 },
    };
    send(s, sEndpoint);
    send(r, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'receiver',
      public: { ip: '198.51.100.2', port: 5000 },
    });
    expect(s.of('peer')).toHaveLength(1);
    expect(r.of('peer')).toHaveLength(1);

    send(s, sEndpoint); // keepalive-style repeat
    expect(s.of('peer')).toHaveLength(1);
    expect(r.of('peer')).toHaveLength(1);
    expect(fx.paired).toBe(1);

    const local = [{ ip: '10.0.0.5', port: 9000 }];
    send(s, { ...sEndpoint, local });
    expect(r.of('peer')).toHaveLength(2);
    expect(r.of('peer')[1]!.remote).toEqual({ ip: '198.51.100.1', port: 4000, local });
    expect(s.of('peer')).toHaveLength(2);
  });

  it('requires holding the slot (ERR_NOT_REGISTERED) and a covering token', () => {
    const a = join(adminClaims(), '198.51.100.1', null);
    send(a, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '198.51.100.1', port: 4000 },
    });
    expect(a.errors()).toEqual(['ERR_NOT_REGISTERED']);

    const p = join(peerClaims('cam-wide'), '198.51.100.1', null);
    send(p, { type: 'endpoint', stream: 'cam-close', role: 'sender' });
    expect(p.errors()).toEqual(['ERR_STREAM_FORBIDDEN']);
  });
});
