import { describe, expect, it } from 'vitest';
import { normalizeIp, sameIp } from './ip.js';

describe('normalizeIp', () => {
  it('writes an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(normalizeIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeIp('::FFFF:198.51.100.7')).toBe('198.51.100.7');
  });

  it('leaves plain IPv4 alone', () => {
    expect(normalizeIp('192.0.2.1')).toBe('192.0.2.1');
  });

  it('lower-cases IPv6 and keeps it IPv6, including ::ffff: without a dotted quad', () => {
    expect(normalizeIp('2001:DB8::1')).toBe('2001:db8::1');
    expect(normalizeIp('::1')).toBe('::1');
    expect(normalizeIp('::ffff:c000:201')).toBe('::ffff:c000:201');
  });
});

describe('sameIp', () => {
  it('treats an IPv4-mapped IPv6 address as its IPv4 address, on either side', () => {
    expect(sameIp('::ffff:192.0.2.1', '192.0.2.1')).toBe(true);
    expect(sameIp('192.0.2.1', '::ffff:192.0.2.1')).toBe(true);
    expect(sameIp('2001:db8::1', '2001:DB8::1')).toBe(true);
  });

  it('tells different addresses apart', () => {
    expect(sameIp('192.0.2.1', '192.0.2.2')).toBe(false);
    expect(sameIp('::ffff:192.0.2.1', '::ffff:192.0.2.2')).toBe(false);
    expect(sameIp('::1', '127.0.0.1')).toBe(false);
  });
});
