/**
 * Capacity (DESIGN.md "Limits, storage faults and deletion"): the session lifetime cap on both
 * hosts; on Node, the caps on live sessions and on open sockets (both realms, in total and per
 * IP), each answered with 503 ERR_CAPACITY and Retry-After. The host runs with lowered caps so
 * they are reached with a handful of requests; each test acts from its own loopback addresses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAN, HOST_KIND, startHost, type Host } from './host.js';
import {
  UpgradeRefused,
  WsClient,
  call,
  codeOf,
  createSession,
  refusedUpgrade,
  uniqueName,
  type Created,
  type HttpResult,
} from './client.js';
import { mint, newAccount, newProject, signal, uploadKey } from './projects-client.js';

const MAX_TTL = 3600;

let host: Host;
beforeAll(async () => {
  host = await startHost(
    HOST_KIND === 'workerd'
      ? { bindings: { PUNCH_MAX_TTL: String(MAX_TTL) } }
      : {
          extraArgs: [
            '--max-ttl',
            '1h',
            '--max-sessions',
            '3',
            '--max-sockets',
            '4',
            '--max-sockets-per-ip',
            '2',
          ],
        },
  );
});
afterAll(async () => {
  await host.stop();
});

function header(r: HttpResult, name: string): string | undefined {
  const h = r.headers[name];
  return Array.isArray(h) ? h[0] : h;
}

describe('session lifetime cap (--max-ttl, PUNCH_MAX_TTL)', () => {
  it('a create over the cap is 400 naming the cap; at the cap it is granted; an extension ends at the cap', async () => {
    const over = await call(host.url, 'POST', '/api/session', {
      body: { name: uniqueName(), ttl: MAX_TTL + 1 },
    });
    expect([over.status, codeOf(over)]).toEqual([400, 'ERR_BAD_REQUEST']);
    expect((over.json as { detail: string }).detail).toContain(String(MAX_TTL));
    const s = await createSession(host.url, { ttl: MAX_TTL });
    expect(s.expiresAt - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(MAX_TTL);
    // Nor can an extension go past it: asking for more ends at the cap.
    const before = Math.floor(Date.now() / 1000);
    const patch = await call(host.url, 'PATCH', `/api/session/${s.session}`, {
      token: s.token,
      body: { ttl: 7 * 24 * 3600 },
    });
    const after = Math.floor(Date.now() / 1000);
    expect(patch.status).toBe(200);
    const { expiresAt } = patch.json as { expiresAt: number };
    expect(expiresAt).toBeGreaterThanOrEqual(before + MAX_TTL - 1);
    expect(expiresAt).toBeLessThanOrEqual(after + MAX_TTL);
    const view = await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token });
    expect((view.json as { expiresAt: number }).expiresAt).toBe(expiresAt);
    await call(host.url, 'DELETE', `/api/session/${s.session}`, { token: s.token });
  });
});

/** Polls `attempt` until it returns true: at most `tries` times, 100 ms apart. */
async function eventually(attempt: () => Promise<boolean>, tries = 100): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await attempt()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

async function signalRefusedFrom(base: string, token: string, from: string) {
  try {
    (await signal(base, token, from)).close();
  } catch (err) {
    if (err instanceof UpgradeRefused) return err;
    throw err;
  }
  throw new Error('the upgrade was accepted');
}

describe('capacity (Node: one process holds every session and socket)', () => {
  it.skipIf(!CAN.capacity)(
    'sockets: past the per-IP and total caps the upgrade is refused with 503 ERR_CAPACITY; both realms count; a close frees a place',
    async () => {
      const s = await createSession(host.url, { streams: ['cam-1'] }, '127.0.0.60');
      try {
        // Refused upgrades (a bad token) never hold a place: five in a row from one IP, each
        // answered 401, and that IP still gets its two sockets afterwards.
        for (let i = 0; i < 5; i++) {
          const bad = await refusedUpgrade(host.url, s.session, 'p_bogus', { from: '127.0.0.61' });
          expect(bad.status).toBe(401);
        }
        const a1 = await WsClient.connect(host.url, s.session, s.token, { from: '127.0.0.61' });
        const a2 = await WsClient.connect(host.url, s.session, s.token, { from: '127.0.0.61' });
        const perIp = await refusedUpgrade(host.url, s.session, s.token, { from: '127.0.0.61' });
        expect([perIp.status, perIp.code, perIp.retryAfter]).toEqual([503, 'ERR_CAPACITY', '30']);

        // A session socket and a signalling socket from another IP: 4 open, the total cap.
        const account = await newAccount(host);
        const project = await newProject(host.url, account);
        const key = await uploadKey(host.url, account, project);
        const peerToken = await mint(key, { group: 'g', peer: 'p1' });
        const b1 = await WsClient.connect(host.url, s.session, s.token, { from: '127.0.0.62' });
        const b2 = await signal(host.url, peerToken, '127.0.0.62');
        const total = await refusedUpgrade(host.url, s.session, s.token, { from: '127.0.0.63' });
        expect([total.status, total.code, total.retryAfter]).toEqual([503, 'ERR_CAPACITY', '30']);
        const totalSignal = await signalRefusedFrom(host.url, peerToken, '127.0.0.63');
        expect([totalSignal.status, totalSignal.code]).toEqual([503, 'ERR_CAPACITY']);

        // Closing a signalling socket frees a place for a session socket.
        b2.close();
        let c1: WsClient | undefined;
        expect(
          await eventually(async () => {
            try {
              c1 = await WsClient.connect(host.url, s.session, s.token, { from: '127.0.0.63' });
              return true;
            } catch (err) {
              if (err instanceof UpgradeRefused && err.status === 503) return false;
              throw err;
            }
          }),
        ).toBe(true);
        for (const c of [a1, a2, b1, c1]) c?.close();
      } finally {
        await call(host.url, 'DELETE', `/api/session/${s.session}`, { token: s.token });
      }
    },
  );

  it.skipIf(!CAN.capacity)(
    'sessions: past --max-sessions a create is 503 ERR_CAPACITY with Retry-After; a deleted or expired session frees its place',
    async () => {
      const made: Created[] = [];
      try {
        made.push(await createSession(host.url, { ttl: 5 }, '127.0.0.70'));
        made.push(await createSession(host.url, {}, '127.0.0.70'));
        made.push(await createSession(host.url, {}, '127.0.0.70'));
        const full = await call(host.url, 'POST', '/api/session', {
          body: { name: uniqueName() },
          from: '127.0.0.71',
        });
        expect([full.status, codeOf(full), header(full, 'retry-after')]).toEqual([
          503,
          'ERR_CAPACITY',
          '30',
        ]);

        // A deletion frees a place at once.
        const gone = made.splice(1, 1)[0];
        if (gone === undefined) throw new Error('unreachable');
        expect(
          (await call(host.url, 'DELETE', `/api/session/${gone.session}`, { token: gone.token }))
            .status,
        ).toBe(204);
        made.push(await createSession(host.url, {}, '127.0.0.72'));
        const again = await call(host.url, 'POST', '/api/session', {
          body: {},
          from: '127.0.0.72',
        });
        expect(again.status).toBe(503);

        // The 5 s session expires on its own, and with it its place (bounded: 15 s of polls).
        expect(
          await eventually(async () => {
            const r = await call(host.url, 'POST', '/api/session', {
              body: { name: uniqueName() },
              from: '127.0.0.73',
            });
            if (r.status === 201) made.push(r.json as Created);
            else expect(r.status).toBe(503);
            return r.status === 201;
          }, 150),
        ).toBe(true);
      } finally {
        for (const m of made)
          await call(host.url, 'DELETE', `/api/session/${m.session}`, { token: m.token });
      }
    },
  );
});
