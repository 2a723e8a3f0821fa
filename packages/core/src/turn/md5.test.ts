import { describe, expect, it } from 'vitest';
import { hex, utf8 } from '../encoding.js';
import { md5 } from './md5.js';

describe('md5', () => {
  it('matches the RFC 1321 §A.5 test suite', () => {
    const suite: [string, string][] = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
      [
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
        'd174ab98d277d9f5a5611c2c9f419d9f',
      ],
      [
        '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
        '57edf4a22be3c955ac49da2e2107b67a',
      ],
    ];
    for (const [input, digest] of suite) expect(hex(md5(utf8(input)))).toBe(digest);
  });

  it('pads correctly on both sides of every block boundary', () => {
    // Digests from an independent implementation (OpenSSL), for lengths where the length field
    // fits in the last block (55), just does not (56, 57), and around one and two blocks.
    const golden: [number, string][] = [
      [55, 'ef1772b6dff9a122358552954ad0df65'],
      [56, '3b0c8ac703f828b04c6c197006d17218'],
      [57, '652b906d60af96844ebd21b674f35e93'],
      [63, 'b06521f39153d618550606be297466d5'],
      [64, '014842d480b571495a4a0363793f7367'],
      [65, 'c743a45e0d2e6a95cb859adae0248435'],
      [119, '8a7bd0732ed6a28ce75f6dabc90e1613'],
      [120, '5f61c0ccad4cac44c75ff505e1f1e537'],
      [1000, 'cabe45dcc9ae5b66ba86600cca6b8ba8'],
    ];
    for (const [length, digest] of golden) expect(hex(md5(utf8('a'.repeat(length))))).toBe(digest);
  });

  it('hashes every byte value, not just text', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(hex(md5(all))).toBe('e2c865db4162bed963bfaa9ef6ac18f0');
  });

  it('reads a view without touching the bytes around it', () => {
    const backing = utf8('xxabcxx');
    expect(hex(md5(backing.subarray(2, 5)))).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(hex(backing)).toBe(hex(utf8('xxabcxx')));
  });
});
