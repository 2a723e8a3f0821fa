import { describe, expect, it } from 'vitest';
import { isLocalAddress } from './local.js';

describe('isLocalAddress', () => {
  it.each([
    '10.0.0.5',
    '10.255.255.255',
    '100.64.0.1',
    '100.127.255.254',
    '127.0.0.1',
    '169.254.10.20',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.20',
    '::1',
    'fc00::1',
    'fd12:3456::7',
    'fe80::1',
    'febf::1',
    'fe80::1%eth0',
    '::ffff:192.168.1.20',
    '::ffff:c0a8:114', // 192.168.1.20, mapped, in hex
  ])('%s is private, link-local or loopback', (ip) => {
    expect(isLocalAddress(ip)).toBe(true);
  });

  it.each([
    '198.51.100.7',
    '8.8.8.8',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.169.0.1',
    '11.0.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '2001:db8::1',
    '::',
    'fec0::1',
    'ff02::1',
    '::ffff:198.51.100.7',
    '::ffff:c633:6407', // 198.51.100.7, mapped, in hex
    'not-an-ip',
    '',
  ])('%s is not', (ip) => {
    expect(isLocalAddress(ip)).toBe(false);
  });
});
