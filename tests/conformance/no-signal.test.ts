/**
 * State follows the media (DESIGN.md "Streams on show day"): a stream whose path is up but
 * carries less than 10 kbit/s of SRT media for 3 s is `no-signal`, in `GET /api/session/:id` and
 * in the `stream` push to admins, and `connected` again once media flows. Peers are protocol
 * clients reporting health as `punch peer` does (once a second, `mediaBps` counting SRT data
 * packets only). Also: the stream view records the last takeover of a live holder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type Host } from './host.js';
import {
  UdpPeer,
  WsClient,
  announce,
  call,
  createSession,
  peerToken,
  type Bind,
  type Created,
  type Msg,
} from './client.js';

let host: Host;
beforeAll(async () => {
  host = await startHost();
});
afterAll(async () => {
  await host.stop();
});

type Role = 'sender' | 'receiver';
interface Side {
  ws: WsClient;
  udp: UdpPeer;
  role: Role;
}

async function join(s: Created, role: Role): Promise<Side> {
  const ws = await WsClient.connect(host.url, s.session, await peerToken(host.url, s, 'cam-1'));
  ws.send({ type: 'register', stream: 'cam-1', role });
  const bind = (await ws.next('registered')).bind as Bind;
  const udp = await UdpPeer.open();
  await announce(ws, udp, { stream: 'cam-1', role }, bind);
  return { ws, udp, role };
}

/** A paired cam-1 and an admin socket following it. */
async function paired(): Promise<{ s: Created; admin: WsClient; sides: Side[] }> {
  const s = await createSession(host.url, { streams: ['cam-1'] });
  const admin = await WsClient.connect(host.url, s.session, s.token);
  const sides = [await join(s, 'sender'), await join(s, 'receiver')];
  await admin.next('stream', (m) => m.state === 'paired');
  return { s, admin, sides };
}

function done(admin: WsClient, sides: Side[]): void {
  admin.close();
  for (const x of sides) {
    x.ws.close();
    x.udp.close();
  }
}

/**
 * Both sides report health every 500 ms (the agents' pace, not a wait for a result) with what
 * `stats()` says at the time, until stopped (at most 60 reports each).
 */
function reporting(sides: Side[], stats: () => Record<string, unknown>): () => void {
  let n = 0;
  const send = (): void => {
    for (const x of sides)
      x.ws.send({ type: 'health', stream: 'cam-1', role: x.role, stats: stats() });
  };
  send();
  const timer = setInterval(() => {
    if (++n >= 60) clearInterval(timer);
    else send();
  }, 500);
  return () => {
    clearInterval(timer);
  };
}

const view = async (s: Created): Promise<Record<string, unknown>> => {
  const r = await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token });
  expect(r.status).toBe(200);
  return (r.json as { streams: Record<string, unknown>[] }).streams[0]!;
};

/** The states pushed for cam-1, each change once. */
const pushed = (admin: WsClient): string[] =>
  admin
    .all('stream')
    .map((m) => m.state as string)
    .filter((state, i, all) => i === 0 || all[i - 1] !== state);

describe('no-signal', () => {
  it('a live path without media is no-signal after 3 s (GET and push); media makes it connected again', async () => {
    const { s, admin, sides } = await paired();
    let mediaBps = 4_000_000;
    const stop = reporting(sides, () => ({ path: 'direct', rttMs: 3, sendBps: 800, mediaBps }));
    try {
      await admin.next('stream', (m) => m.state === 'connected');
      expect((await view(s)).state).toBe('connected');
      // The encoder stops: SRT's keepalives and ACKs still cross (sendBps), media does not.
      mediaBps = 0;
      const alarm = await admin.next('stream', (m) => m.state === 'no-signal', 10_000);
      expect(alarm).toMatchObject({
        name: 'cam-1',
        sender: { present: true, path: 'direct' },
        receiver: { present: true, path: 'direct' },
      });
      expect((await view(s)).state).toBe('no-signal');
      // Just under 10 kbit/s is still no media.
      mediaBps = 9_999;
      for (let k = 0; k < 3; k++) await new Promise((r) => setTimeout(r, 500));
      expect((await view(s)).state).toBe('no-signal');
      mediaBps = 2_500_000;
      await admin.next('stream', (m) => m.state === 'connected', 10_000);
      expect((await view(s)).state).toBe('connected');
      expect(pushed(admin).slice(-4)).toEqual(['paired', 'connected', 'no-signal', 'connected']);
    } finally {
      stop();
      done(admin, sides);
    }
  });

  it('no-signal needs a live path: reports of no path leave the stream paired', async () => {
    const { s, admin, sides } = await paired();
    const stop = reporting(sides, () => ({ path: 'none', mediaBps: 0 }));
    try {
      // 4 s of reports (8 each side): the no-signal delay has passed, the path never came up.
      for (let k = 0; k < 8; k++) {
        await new Promise((r) => setTimeout(r, 500));
      }
      expect((await view(s)).state).toBe('paired');
      expect(pushed(admin)).not.toContain('no-signal');
    } finally {
      stop();
      done(admin, sides);
    }
  });

  it('an agent that reports no media rate (older than media counting) stays connected', async () => {
    const { s, admin, sides } = await paired();
    const stop = reporting(sides, () => ({ path: 'relay', rttMs: 9, sendBps: 4e6 }));
    try {
      await admin.next('stream', (m) => m.state === 'connected');
      for (let k = 0; k < 8; k++) {
        await new Promise((r) => setTimeout(r, 500)); // past the 3 s of the no-signal rule
      }
      expect((await view(s)).state).toBe('connected');
      expect(pushed(admin)).not.toContain('no-signal');
    } finally {
      stop();
      done(admin, sides);
    }
  });

  it('is pushed when it falls due with no message to prompt it, then paired once reports stop', async () => {
    const { admin, sides } = await paired();
    const sender = sides[0]!;
    const report = (mediaBps: number): void => {
      sender.ws.send({
        type: 'health',
        stream: 'cam-1',
        role: 'sender',
        stats: { path: 'direct', mediaBps },
      });
    };
    report(4_000_000);
    await admin.next('stream', (m) => m.state === 'connected');
    report(0);
    // Nothing more is sent: the host's own timer (Workers: the object's alarm) must push.
    await admin.next('stream', (m) => m.state === 'no-signal', 10_000);
    await admin.next('stream', (m) => m.state === 'paired', 10_000);
    expect(pushed(admin).slice(-3)).toEqual(['connected', 'no-signal', 'paired']);
    done(admin, sides);
  });
});

describe('takeover in the stream view', () => {
  it('says which side was taken over, when and by whom (a peer or an admin), never from where', async () => {
    const { s, admin, sides } = await paired();
    expect((await view(s)).takeover).toBeNull();
    const fresh = await WsClient.connect(
      host.url,
      s.session,
      await peerToken(host.url, s, 'cam-1'),
    );
    fresh.send({ type: 'register', stream: 'cam-1', role: 'sender', takeover: true });
    await fresh.next('registered');
    const push = await admin.next('stream', (m: Msg) => m.takeover !== null);
    const t = push.takeover as { role: string; at: unknown; by: string };
    expect({ role: t.role, by: t.by, at: typeof t.at }).toEqual({
      role: 'sender',
      by: 'peer',
      at: 'number',
    });
    expect((await view(s)).takeover).toEqual(push.takeover);
    expect(JSON.stringify(push)).not.toContain('127.0.0.1');

    // An admin token takes the live receiver's side.
    const byAdmin = await WsClient.connect(host.url, s.session, s.token);
    byAdmin.send({ type: 'register', stream: 'cam-1', role: 'receiver' });
    await byAdmin.next('registered');
    const second = await admin.next(
      'stream',
      (m: Msg) => (m.takeover as { by?: string } | null)?.by === 'admin',
    );
    expect(second.takeover).toMatchObject({ role: 'receiver', by: 'admin' });
    expect((await view(s)).takeover).toMatchObject({ role: 'receiver', by: 'admin' });
    fresh.close();
    byAdmin.close();
    done(admin, sides);
  });
});
