import { describe, expect, it } from 'vitest';
import { readyPair } from './pairing.js';
import { SlotTable } from './slots.js';
import { FakeConn } from './test/room-fixture.js';

const claims = { session: 'show', role: 'admin' as const, stream: null, exp: 2_000_000_000 };
const sc = new FakeConn('s', claims);
const rc = new FakeConn('r', claims);
const se = { ip: '198.51.100.1', port: 4000 };
const re = { ip: '198.51.100.2', port: 5000 };

function stream(): {
  table: SlotTable;
  sender: ReturnType<SlotTable['fill']>;
  receiver: ReturnType<SlotTable['fill']>;
} {
  const table = new SlotTable(['cam-wide']);
  const sender = table.fill({ stream: 'cam-wide', role: 'sender' }, sc, 'su');
  const receiver = table.fill({ stream: 'cam-wide', role: 'receiver' }, rc, 'ru');
  return { table, sender, receiver };
}

describe('readyPair', () => {
  it('is undefined until both sides have a public endpoint', () => {
    const { table, sender, receiver } = stream();
    expect(readyPair(table.of('cam-wide'), 'auto')).toBeUndefined();
    sender.public = se;
    sender.local = [{ ip: '192.168.1.5', port: 9000 }];
    expect(readyPair(table.of('cam-wide'), 'auto')).toBeUndefined();
    receiver.public = re;
    expect(readyPair(table.of('cam-wide'), 'auto')).toBeDefined();
    expect(readyPair(new SlotTable(['cam-wide']).of('cam-wide'), 'auto')).toBeUndefined();
  });

  it('gives each side the remote the other is sent, with local candidates only when there are some', () => {
    const { table, sender, receiver } = stream();
    const local = [{ ip: '192.168.1.5', port: 9000 }];
    sender.public = se;
    sender.local = local;
    receiver.public = re;
    const pair = readyPair(table.of('cam-wide'), 'auto')!;
    expect(pair.sender.slot.conn).toBe(sc);
    expect(pair.sender.remote).toEqual(re);
    expect(pair.receiver.slot.conn).toBe(rc);
    expect(pair.receiver.remote).toEqual({ ...se, local });
    expect(pair.sender.remote).not.toHaveProperty('local');
  });

  it('its key changes with either side public or local endpoints, and only then', () => {
    const { table, sender, receiver } = stream();
    sender.public = se;
    receiver.public = re;
    const key = readyPair(table.of('cam-wide'), 'auto')!.key;
    sender.public = { ...se };
    expect(readyPair(table.of('cam-wide'), 'auto')!.key).toBe(key);
    receiver.public = { ...re, port: 5001 };
    const moved = readyPair(table.of('cam-wide'), 'auto')!.key;
    expect(moved).not.toBe(key);
    sender.local = [{ ip: '10.0.0.5', port: 9000 }];
    expect(readyPair(table.of('cam-wide'), 'auto')!.key).not.toBe(moved);
  });

  it('in auto, a side with only a relayed address is reached there; a relayed address joins the remote', () => {
    const { table, sender, receiver } = stream();
    const relay = { ip: '203.0.113.9', port: 50000 };
    sender.relay = relay;
    receiver.public = re;
    const pair = readyPair(table.of('cam-wide'), 'auto')!;
    expect(pair.receiver.remote).toEqual({ ...relay, relay });
    sender.public = se;
    sender.local = [{ ip: '192.168.1.5', port: 9000 }];
    const both = readyPair(table.of('cam-wide'), 'auto')!;
    expect(both.receiver.remote).toEqual({ ...se, local: sender.local, relay });
    expect(both.key).not.toBe(pair.key);
  });

  it('in always, only relayed addresses pair, and no public or LAN endpoint is ever in a remote', () => {
    const { table, sender, receiver } = stream();
    sender.public = se;
    sender.local = [{ ip: '192.168.1.5', port: 9000 }];
    receiver.public = re;
    expect(readyPair(table.of('cam-wide'), 'always')).toBeUndefined();
    const sr = { ip: '203.0.113.9', port: 50000 };
    const rr = { ip: '203.0.113.9', port: 50002 };
    sender.relay = sr;
    expect(readyPair(table.of('cam-wide'), 'always')).toBeUndefined();
    receiver.relay = rr;
    const pair = readyPair(table.of('cam-wide'), 'always')!;
    expect(pair.receiver.remote).toEqual({ ...sr, relay: sr });
    expect(pair.sender.remote).toEqual({ ...rr, relay: rr });
    expect(JSON.stringify(pair.sender.remote) + JSON.stringify(pair.receiver.remote)).not.toMatch(
      /198\.51\.100|192\.168/,
    );
  });
});
