import { beforeEach, describe, expect, it } from 'vitest';
import { PunchError } from '../errors.js';
import {
  adminClaims,
  fx,
  join,
  peerClaims,
  resetFixture,
  send,
  T0S,
  TTL,
} from './test/room-fixture.js';

// A store that cannot write (the Node host's driver throws ERR_STORAGE on a full disk): the
// message that wanted the write gets `error ERR_STORAGE`, the room is as it was, and the socket
// stays.

beforeEach(async () => {
  await resetFixture();
  fx.store.saveSession = () => {
    throw new PunchError('ERR_STORAGE');
  };
});

describe('writes that fail', () => {
  it('a tally that cannot be stored: ERR_STORAGE to the sender, nothing changes or is pushed', () => {
    const admin = join(adminClaims());
    const peer = join(peerClaims('cam-wide'));
    send(admin, { type: 'tally', program: ['cam-wide'], preview: [] });
    expect(admin.errors()).toEqual(['ERR_STORAGE']);
    expect(admin.closedWith).toBeUndefined();
    expect(fx.room.record.tally).toEqual({ program: [], preview: [] });
    expect(peer.of('tally')).toEqual([]);
    // The socket still works.
    send(admin, { type: 'ping' });
    expect(admin.of('pong')).toHaveLength(1);
  });

  it('an extension that cannot be stored: ERR_STORAGE, and the session keeps its expiry', async () => {
    await expect(fx.room.extend(T0S + TTL + 3600)).rejects.toMatchObject({ code: 'ERR_STORAGE' });
    expect(fx.room.record.expiresAt).toBe(T0S + TTL);
  });
});
