import { describe, expect, it } from 'vitest';
import { isRefusedAddress, peerPolicy } from './policy.js';

describe('isRefusedAddress', () => {
  // Each refused range at both its ends, and the public address just outside it.
  const refused = [
    ['0.0.0.0', '0.255.255.255'],
    ['10.0.0.0', '10.255.255.255'],
    ['100.64.0.0', '100.127.255.255'],
    ['127.0.0.0', '127.255.255.255'],
    ['169.254.0.0', '169.254.255.255'],
    ['172.16.0.0', '172.31.255.255'],
    ['192.168.0.0', '192.168.255.255'],
    ['224.0.0.0', '239.255.255.255'],
    ['240.0.0.0', '255.255.255.255'],
    ['::', '::'],
    ['::1', '::1'],
    ['::ffff:127.0.0.1', '::ffff:10.1.2.3'],
    ['fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['ff00::', 'ff02::1'],
  ] as const;
  it.each(refused)('refuses %s through %s', (first, last) => {
    expect(isRefusedAddress(first)).toBe(true);
    expect(isRefusedAddress(last)).toBe(true);
  });

  it.each([
    '1.0.0.0',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '169.255.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.255.255',
    '192.169.0.0',
    '203.0.113.5',
    '223.255.255.255',
    '2001:db8::1',
    '::2',
    'fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    'fec0::',
    'feff::',
    '::ffff:203.0.113.5',
  ])('allows %s', (ip) => {
    expect(isRefusedAddress(ip)).toBe(false);
  });

  it('refuses what is not an IP address', () => {
    for (const junk of ['', 'localhost', '1.2.3', '1.2.3.256', 'x::y']) {
      expect(isRefusedAddress(junk)).toBe(true);
    }
  });
});

/** A project peer's TURN REST username (any id that is not a session socket's). */
const U = '1767225600:alice';

describe('peerPolicy', () => {
  /** 10.0.0.5:50000 is a relayed address of this relay, held by a project peer. */
  const own = (ip: string, port: number): string | undefined =>
    ip === '10.0.0.5' && port === 50000 ? '1767225600:bob' : undefined;

  it('refuses private peers but allows another allocation on this relay', () => {
    const policy = peerPolicy({ allowPrivate: false, ownRelay: own });
    expect(policy.allows('10.0.0.5', 50000, U)).toBe(true);
    expect(policy.allows('::ffff:10.0.0.5', 50000, U)).toBe(true);
    expect(policy.allows('10.0.0.5', 50001, U)).toBe(false);
    expect(policy.allows('127.0.0.1', 3478, U)).toBe(false);
    expect(policy.allows('198.51.100.7', 4000, U)).toBe(true);
  });

  it('allowPrivate opens LAN and loopback peers, never link-local, nor the relay port itself', () => {
    const host = (ip: string): boolean => ip === '127.0.0.1' || ip === '10.1.1.9';
    const policy = peerPolicy({
      allowPrivate: true,
      ownRelay: () => undefined,
      isHostAddress: host,
      relayPort: 3478,
    });
    for (const ip of ['127.0.0.1', '10.1.1.1', '192.168.7.7', 'fd00::1', '203.0.113.9']) {
      expect(policy.allows(ip, 9000, U)).toBe(true);
    }
    for (const ip of ['169.254.169.254', 'fe80::1', '0.0.0.0', '224.0.0.1']) {
      expect(policy.allows(ip, 9000, U)).toBe(false);
    }
    expect(policy.allows('127.0.0.1', 3478, U)).toBe(false); // the relay would chain to itself
    expect(policy.allows('10.1.1.9', 3478, U)).toBe(false);
    expect(policy.allows('10.1.1.8', 3478, U)).toBe(true); // another machine's 3478
  });

  it("refuses the host's own public addresses, but for its relayed ports", () => {
    const host = (ip: string): boolean => ip === '198.51.100.1';
    const ownPublic = (ip: string, port: number): string | undefined =>
      ip === '198.51.100.1' && port === 50000 ? '1767225600:bob' : undefined;
    const policy = peerPolicy({ allowPrivate: false, ownRelay: ownPublic, isHostAddress: host });
    expect(policy.allows('198.51.100.1', 3478, U)).toBe(false); // its own STUN/TURN port
    expect(policy.allows('::ffff:198.51.100.1', 53, U)).toBe(false);
    expect(policy.allows('198.51.100.1', 50000, U)).toBe(true); // another allocation: relay to relay
    expect(policy.allows('198.51.100.2', 3478, U)).toBe(true);
  });

  it("holds a session socket's credentials to the addresses Punch handed that socket", () => {
    const handed = [
      { ip: '198.51.100.20', port: 40000 },
      { ip: '10.1.2.3', port: 9000 },
    ];
    const sessionPeers = (session: string, conn: string) =>
      session === 'show' && conn === 'k3v9' ? handed : [];
    const policy = peerPolicy({ allowPrivate: false, ownRelay: () => undefined, sessionPeers });
    const mine = '1767225600:show/k3v9';
    expect(policy.allows('198.51.100.20', 40000, mine)).toBe(true);
    expect(policy.allows('::ffff:198.51.100.20', 40000, mine)).toBe(true);
    expect(policy.allows('198.51.100.20', 40001, mine)).toBe(false); // another port of that IP
    expect(policy.allows('203.0.113.77', 5000, mine)).toBe(false); // public, never handed
    // A handed LAN address stays refused without --relay-allow-private (an admin could claim any).
    expect(policy.allows('10.1.2.3', 9000, mine)).toBe(false);
    const lan = peerPolicy({ allowPrivate: true, ownRelay: () => undefined, sessionPeers });
    expect(lan.allows('10.1.2.3', 9000, mine)).toBe(true);
    expect(lan.allows('10.1.2.4', 9000, mine)).toBe(false);
    // Another socket of the same session was handed nothing: it reaches nothing.
    expect(policy.allows('198.51.100.20', 40000, '1767225600:show/other')).toBe(false);
    // A project peer's credentials keep the general rule.
    expect(policy.allows('203.0.113.77', 5000, U)).toBe(true);
    // A project peer named with a dot is a project peer, not a session socket.
    expect(policy.allows('203.0.113.77', 5000, '1767225600:alice.smith')).toBe(true);
  });

  it("relay to relay: a session's allocations reach each other, and no stranger reaches them", () => {
    const owners: Record<string, string> = {
      '192.0.2.1|50000': '1767225600:show/a', // a session socket's allocation
      '192.0.2.1|50002': '1767225600:show/b', // the other side of the same session
      '192.0.2.1|50004': '1767225600:other-show/c', // another session's
      '192.0.2.1|50006': '1767225600:mallory', // a project peer's
    };
    const policy = peerPolicy({
      allowPrivate: false,
      ownRelay: (ip, port) => owners[`${ip}|${port}`],
    });
    expect(policy.allows('192.0.2.1', 50002, '1767225600:show/a')).toBe(true);
    expect(policy.allows('192.0.2.1', 50000, '1767225600:show/b')).toBe(true);
    // After a reconnect the socket id changes; its allocation still reaches its own session's.
    expect(policy.allows('192.0.2.1', 50002, '1767225600:show/a-old')).toBe(true);
    expect(policy.allows('192.0.2.1', 50000, '1767225600:other-show/c')).toBe(false);
    expect(policy.allows('192.0.2.1', 50000, '1767225600:mallory')).toBe(false);
    expect(policy.allows('192.0.2.1', 50006, '1767225600:show/a')).toBe(false);
    expect(policy.allows('192.0.2.1', 50006, '1767225600:alice')).toBe(true);
  });
});
