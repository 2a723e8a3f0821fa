import { describe, expect, it } from 'vitest';
import type { Env } from './env.js';
import { CLOUDFLARE_TURN_API, publicStun, readTurnSource } from './turn-config.js';

const env = (vars: Partial<Record<keyof Env, string>>): Env => vars as unknown as Env;

describe('readTurnSource', () => {
  it('is none without TURN variables', () => {
    expect(readTurnSource(env({}))).toEqual({ kind: 'none' });
  });

  it('reads coturn URLs and secret', () => {
    expect(
      readTurnSource(
        env({
          PUNCH_TURN_URLS: 'turn:t.example:3478?transport=udp, turns:t.example:5349?transport=tcp',
          PUNCH_TURN_SECRET: 's3cret',
        }),
      ),
    ).toEqual({
      kind: 'rest',
      turn: {
        secret: 's3cret',
        urls: ['turn:t.example:3478?transport=udp', 'turns:t.example:5349?transport=tcp'],
      },
    });
  });

  it('reads a Cloudflare TURN key, with the API base overridable', () => {
    expect(
      readTurnSource(env({ PUNCH_CF_TURN_KEY_ID: 'abc123', PUNCH_CF_TURN_API_TOKEN: 'tok' })),
    ).toEqual({
      kind: 'cloudflare',
      cloudflare: { keyId: 'abc123', token: 'tok', api: CLOUDFLARE_TURN_API },
    });
    const local = readTurnSource(
      env({
        PUNCH_CF_TURN_KEY_ID: 'abc123',
        PUNCH_CF_TURN_API_TOKEN: 'tok',
        PUNCH_CF_TURN_API: 'http://127.0.0.1:8080/',
      }),
    );
    expect(local).toMatchObject({ cloudflare: { api: 'http://127.0.0.1:8080' } });
  });

  it('refuses half a configuration, both at once, and bad values, naming the variable', () => {
    const cases: [Partial<Record<keyof Env, string>>, RegExp][] = [
      [{ PUNCH_TURN_URLS: 'turn:t.example:3478' }, /PUNCH_TURN_SECRET is not/],
      [{ PUNCH_TURN_SECRET: 's' }, /PUNCH_TURN_URLS is not/],
      [{ PUNCH_TURN_URLS: 'stun:t.example:3478', PUNCH_TURN_SECRET: 's' }, /not a turn: or turns:/],
      [
        { PUNCH_TURN_URLS: Array(9).fill('turn:t:1').join(','), PUNCH_TURN_SECRET: 's' },
        /at most 8/,
      ],
      [{ PUNCH_CF_TURN_KEY_ID: 'abc' }, /PUNCH_CF_TURN_API_TOKEN is not/],
      [{ PUNCH_CF_TURN_API_TOKEN: 'tok' }, /PUNCH_CF_TURN_KEY_ID is not/],
      [{ PUNCH_CF_TURN_KEY_ID: 'a/../b', PUNCH_CF_TURN_API_TOKEN: 'tok' }, /TURN key id/],
      [
        {
          PUNCH_CF_TURN_KEY_ID: 'abc',
          PUNCH_CF_TURN_API_TOKEN: 'tok',
          PUNCH_CF_TURN_API: 'ftp://x',
        },
        /PUNCH_CF_TURN_API must be/,
      ],
      [
        {
          PUNCH_TURN_URLS: 'turn:t:1',
          PUNCH_TURN_SECRET: 's',
          PUNCH_CF_TURN_KEY_ID: 'abc',
          PUNCH_CF_TURN_API_TOKEN: 'tok',
        },
        /not both/,
      ],
    ];
    for (const [vars, message] of cases) {
      expect(() => readTurnSource(env(vars))).toThrow(message);
    }
  });

  it('never puts the API token in an error', () => {
    try {
      readTurnSource(env({ PUNCH_CF_TURN_API_TOKEN: 'tok-never-shown' }));
    } catch (err) {
      expect(String(err)).not.toContain('tok-never-shown');
    }
    expect.assertions(1);
  });
});

describe('publicStun', () => {
  it("reads the first stun: URL's host and port (3478 by default)", () => {
    expect(publicStun(env({ PUNCH_STUN_URLS: 'stun:stun.cloudflare.com:3478' }))).toEqual({
      host: 'stun.cloudflare.com',
      port: 3478,
    });
    expect(publicStun(env({ PUNCH_STUN_URLS: ' stun:s.example , stun:t.example:19302' }))).toEqual({
      host: 's.example',
      port: 3478,
    });
    expect(publicStun(env({ PUNCH_STUN_URLS: 'stun:[2001:db8::1]:3479' }))).toEqual({
      host: '2001:db8::1',
      port: 3479,
    });
  });

  it('is undefined without one, or for anything but a stun: URL', () => {
    expect(publicStun(env({}))).toBeUndefined();
    expect(publicStun(env({ PUNCH_STUN_URLS: 'turn:t.example:3478' }))).toBeUndefined();
    expect(publicStun(env({ PUNCH_STUN_URLS: 'stun:s.example:99999' }))).toBeUndefined();
    expect(publicStun(env({ PUNCH_STUN_URLS: 'stun:' }))).toBeUndefined();
  });
});
