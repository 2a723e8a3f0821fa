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
    expect(readyPair(table.of('cam-wide'))).toBeUndefined();
    sender.public = se;
    sender.local = [{ ip: '192.168.1.5', port: 9000 }];
    expect(readyPair(table.of('cam-wide'))).toBeUndefined();
    receiver.public = re;
    expect(readyPair(table.of('cam-wide'))).toBeDefined();
    expect(readyPair(new SlotTable(['cam-wide']).of('cam-wide'))).toBeUndefined();
  });

  it('gives each side the remote the other is sent, with local candidates only when there are some', () => {
    const { table, sender, receiver } = stream();
    const local = [{ ip: '192.168.1.5', port: 9000 }];
    sender.public = se;
    sender.local = local;
    receiver.public = re;
    const pair = readyPair(table.of('cam-wide'))!;
    expect(pair.sender).toEqual({ conn: sc, remote: { ...se, local } });
    expect(pair.receiver).toEqual({ conn: rc, remote: re });
    expect(pair.receiver.remote).not.toHaveProperty('local');
  });

  it('its key changes with either side public or local endpoints, and only then', () => {
    const { table, sender, receiver } = stream();
    sender.public = se;
    receiver.public = re;
    const key = readyPair(table.of('cam-wide'))!.key;
    sender.public = { ...se };
    expect(readyPair(table.of('cam-wide'))!.key).toBe(key);
    receiver.public = { ...re, port: 5001 };
    const moved = readyPair(table.of('cam-wide'))!.key;
    expect(moved).not.toBe(key);
    sender.local = [{ ip: '10.0.0.5', port: 9000 }];
    expect(readyPair(table.of('cam-wide'))!.key).not.toBe(moved);
  });
});
