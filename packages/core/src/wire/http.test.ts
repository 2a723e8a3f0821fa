/**
 * What clients (the CLI, the dashboard) read from the HTTP API, read as an older client would
 * read a newer server: fields it does not know, at any depth, are dropped, never a failure.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { withFutureFields } from '../test/future-fields.js';
import { ConnectInfo, HealthHistory, SessionView } from './http.js';

const session: z.input<typeof SessionView> = {
  session: 'nab-floor',
  createdAt: 1795417000,
  expiresAt: 1795424605,
  relay: 'auto',
  tally: { program: ['cam-wide'], preview: [] },
  tallyOrigin: { source: 'OBS at 10.0.0.6:4455', at: 1795417605054 },
  streams: [
    {
      name: 'cam-wide',
      state: 'connected',
      sender: { present: true, endpoint: true, path: 'relay' },
      receiver: { present: true, endpoint: true, path: 'relay' },
      tally: 'program',
      takeover: null,
    },
  ],
};

const connect: z.input<typeof ConnectInfo> = {
  passphrase: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
  pbkeylen: 32,
  latencyMs: 120,
  streams: [
    {
      name: 'cam-wide',
      sender: { ip: '198.51.100.20', port: 53122 },
      receiver: null,
      passphrase: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
      rendezvousPort: 9000,
      commands: { punch: 'punch peer …' },
    },
  ],
};

const health: z.input<typeof HealthHistory> = {
  session: 'nab-floor',
  samples: [
    {
      stream: 'cam-wide',
      role: 'sender',
      at: 1795417605054,
      stats: { path: 'direct', rttMs: 12, srt: { msRTT: 12 } },
    },
  ],
};

describe('HTTP views as clients read them', () => {
  it('a newer server’s extra fields, at any depth, are dropped', () => {
    const cases: [z.ZodType, unknown][] = [
      [SessionView, session],
      [ConnectInfo, connect],
      [HealthHistory, health],
    ];
    for (const [schema, value] of cases) {
      const plain = schema.parse(value);
      expect(schema.parse(withFutureFields(value))).toEqual(plain);
    }
  });
});
