import { describe, expect, it } from 'vitest';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './ip-text.js';

const v6 = (text: string): string => {
  const bytes = parseIPv6(text);
  if (bytes === undefined) throw new Error(`not parsed: ${text}`);
  return formatIPv6(bytes);
};

describe('IPv4 text', () => {
  it('round-trips dotted quads', () => {
    for (const ip of ['0.0.0.0', '192.0.2.1', '255.255.255.255', '10.0.0.5']) {
      expect(formatIPv4(parseIPv4(ip) ?? new Uint8Array(4))).toBe(ip);
    }
  });

  it('refuses what inet_pton refuses', () => {
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.0.0.1',
      '01.2.3.4',
      '1.2.3.-4',
      'a.b.c.d',
      '1..2.3',
    ]) {
      expect([bad, parseIPv4(bad)]).toEqual([bad, undefined]);
    }
  });
});

describe('IPv6 text', () => {
  it('prints RFC 5952 form, as Node does', () => {
    expect(v6('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(v6('::')).toBe('::');
    expect(v6('::1')).toBe('::1');
    expect(v6('::ffff:192.0.2.1')).toBe('::ffff:192.0.2.1');
    expect(v6('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(v6('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(v6('fe80::1%eth0')).toBe('fe80::1');
  });

  it('refuses malformed text', () => {
    for (const bad of [
      '',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      '::1.2.3',
      '1.2.3.4::',
      'g::1',
    ]) {
      expect([bad, parseIPv6(bad)]).toEqual([bad, undefined]);
    }
  });
});
