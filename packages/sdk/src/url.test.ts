import { describe, expect, it } from 'vitest';
import { signalUrl } from './url.js';

describe('signalUrl', () => {
  it('maps the base URL to the signalling socket', () => {
    expect(signalUrl('https://punch.example.com')).toBe('wss://punch.example.com/api/signal');
    expect(signalUrl('http://127.0.0.1:8787')).toBe('ws://127.0.0.1:8787/api/signal');
    expect(signalUrl('http://127.0.0.1:8787/')).toBe('ws://127.0.0.1:8787/api/signal');
    expect(signalUrl('https://x.test/punch/')).toBe('wss://x.test/punch/api/signal');
    expect(signalUrl('wss://x.test:8443')).toBe('wss://x.test:8443/api/signal');
    expect(signalUrl('http://[::1]:8787')).toBe('ws://[::1]:8787/api/signal');
  });

  it('refuses what is not an http(s) or ws(s) URL', () => {
    expect(() => signalUrl('punch.example.com')).toThrow(TypeError);
    expect(() => signalUrl('ftp://x.test')).toThrow(/http\(s\)/);
  });
});
