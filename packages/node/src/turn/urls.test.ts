import { describe, expect, it } from 'vitest';
import { turnConfigFor } from './urls.js';

describe('turnConfigFor', () => {
  const own = { secret: 's', port: 3478, tcp: true };

  it("names Punch's own relay at the host the client reached, UDP and TCP", () => {
    expect(turnConfigFor({ external: undefined, own: () => own })('punch.example')).toEqual({
      secret: 's',
      urls: ['turn:punch.example:3478?transport=udp', 'turn:punch.example:3478?transport=tcp'],
    });
    expect(turnConfigFor({ external: undefined, own: () => own })('2001:db8::1')?.urls[0]).toBe(
      'turn:[2001:db8::1]:3478?transport=udp',
    );
    const udpOnly = turnConfigFor({ external: undefined, own: () => ({ ...own, tcp: false }) });
    expect(udpOnly('h')?.urls).toEqual(['turn:h:3478?transport=udp']);
  });

  it('an external TURN server wins; no relay at all gives nothing', () => {
    const external = { secret: 'x', urls: ['turn:coturn.example:3478'] };
    expect(turnConfigFor({ external, own: () => own })('h')).toBe(external);
    expect(turnConfigFor({ external: undefined, own: () => undefined })('h')).toBeUndefined();
  });
});
