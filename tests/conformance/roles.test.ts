/**
 * Every row of the seed's role table, allowed and refused, over HTTP and WebSocket; plus
 * cross-stream access with stream-scoped peer tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type Host } from './host.js';
import {
  UdpPeer,
  WsClient,
  announce,
  call,
  codeOf,
  createSession,
  peerToken,
  type Created,
  type Bind,
} from './client.js';

let host: Host;
let s: Created;
let wide: string; // peer token scoped to cam-wide
let all: string; // peer token for every stream

beforeAll(async () => {
  host = await startHost();
  s = await createSession(host.url, { streams: ['cam-wide', 'cam-close'] });
  wide = await peerToken(host.url, s, 'cam-wide');
  all = await peerToken(host.url, s, null);
});
afterAll(async () => {
  await host.stop();
});

describe('Create session — admin: yes, peer: no', () => {
  it('an admin token (or no token) creates', async () => {
    expect(
      (await call(host.url, 'POST', '/api/session', { token: s.token, body: {} })).status,
    ).toBe(201);
    expect((await call(host.url, 'POST', '/api/session', { body: {} })).status).toBe(201);
  });
  it('a peer token is refused with 403 ERR_FORBIDDEN', async () => {
    const r = await call(host.url, 'POST', '/api/session', { token: wide, body: {} });
    expect([r.status, codeOf(r)]).toEqual([403, 'ERR_FORBIDDEN']);
  });
});

describe('Close session — admin: yes, peer: no', () => {
  it('a peer cannot close or extend', async () => {
    for (const token of [wide, all]) {
      const d = await call(host.url, 'DELETE', `/api/session/${s.session}`, { token });
      expect([d.status, codeOf(d)]).toEqual([403, 'ERR_FORBIDDEN']);
      const p = await call(host.url, 'PATCH', `/api/session/${s.session}`, {
        token,
        body: { ttl: 600 },
      });
      expect([p.status, codeOf(p)]).toEqual([403, 'ERR_FORBIDDEN']);
    }
    expect(
      (await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token })).status,
    ).toBe(200);
  });
  it('an admin closes', async () => {
    const other = await createSession(host.url);
    expect(
      (await call(host.url, 'DELETE', `/api/session/${other.session}`, { token: other.token }))
        .status,
    ).toBe(204);
    expect(
      (await call(host.url, 'GET', `/api/session/${other.session}`, { token: other.token })).status,
    ).toBe(404);
  });
});

describe('Generate peer tokens — admin: yes, peer: no', () => {
  it('an admin creates a scoped token with a link and a QR code', async () => {
    const r = await call(host.url, 'POST', `/api/session/${s.session}/tokens`, {
      token: s.token,
      body: { stream: 'cam-close' },
    });
    expect(r.status).toBe(201);
    const body = r.json as {
      token: string;
      stream: string;
      url: string;
      qr: string;
      expiresAt: number;
    };
    expect(body.stream).toBe('cam-close');
    expect(body.url).toBe(`${host.url}/s/${s.session}?t=${body.token}`);
    expect(body.qr).toMatch(/^<svg[\s>]/);
    expect(body.expiresAt).toBe(s.expiresAt);
  });
  it('a peer is refused', async () => {
    for (const token of [wide, all]) {
      const r = await call(host.url, 'POST', `/api/session/${s.session}/tokens`, {
        token,
        body: { stream: 'cam-wide' },
      });
      expect([r.status, codeOf(r)]).toEqual([403, 'ERR_FORBIDDEN']);
    }
  });
});

describe('Register as peer — admin: yes, peer: own stream only', () => {
  it('an admin registers on any stream', async () => {
    const c = await WsClient.connect(host.url, s.session, s.token);
    c.send({ type: 'register', stream: 'cam-close', role: 'receiver' });
    expect(await c.next('registered')).toMatchObject({ stream: 'cam-close', role: 'receiver' });
    c.close();
  });
  it('a scoped peer registers on its own stream and is refused on another', async () => {
    const c = await WsClient.connect(host.url, s.session, wide);
    c.send({ type: 'register', stream: 'cam-close', role: 'sender' });
    expect(await c.next('error')).toMatchObject({ code: 'ERR_STREAM_FORBIDDEN' });
    c.send({
      type: 'endpoint',
      stream: 'cam-close',
      role: 'sender',
      local: [{ ip: '10.0.0.2', port: 9000 }],
    });
    expect(await c.next('error')).toMatchObject({ code: 'ERR_STREAM_FORBIDDEN' });
    c.send({ type: 'health', stream: 'cam-close', role: 'sender', stats: {} });
    expect(await c.next('error')).toMatchObject({ code: 'ERR_STREAM_FORBIDDEN' });
    c.send({ type: 'register', stream: 'cam-wide', role: 'sender' });
    expect(await c.next('registered')).toMatchObject({ stream: 'cam-wide', role: 'sender' });
    c.close();
  });
  it('a peer token for all streams (the MCR receiver) is read-only: receiver slots only', async () => {
    const c = await WsClient.connect(host.url, s.session, all);
    c.send({ type: 'register', stream: 'cam-close', role: 'receiver' });
    expect(await c.next('registered')).toMatchObject({ stream: 'cam-close', role: 'receiver' });
    c.send({ type: 'register', stream: 'cam-wide', role: 'sender' });
    expect(await c.next('error')).toMatchObject({ code: 'ERR_FORBIDDEN' });
    c.close();
  });

  it("a peer cannot evict an admin's registration; the admin can take the slot back", async () => {
    const adminC = await WsClient.connect(host.url, s.session, s.token);
    adminC.send({ type: 'register', stream: 'cam-wide', role: 'receiver' });
    await adminC.next('registered');
    const peerC = await WsClient.connect(host.url, s.session, wide);
    peerC.send({ type: 'register', stream: 'cam-wide', role: 'receiver' });
    expect(await peerC.next('error')).toMatchObject({ code: 'ERR_SLOT_TAKEN' });
    peerC.send({ type: 'ping' });
    await peerC.next('pong');
    expect(adminC.all('error')).toEqual([]);
    adminC.close();
    peerC.close();
  });
});

describe('View stream health — admin: all; peer: own stream only', () => {
  let sender: WsClient;
  let adminWs: WsClient;
  let peerWs: WsClient;

  beforeAll(async () => {
    adminWs = await WsClient.connect(host.url, s.session, s.token);
    peerWs = await WsClient.connect(host.url, s.session, wide);
    await adminWs.next('welcome');
    await peerWs.next('welcome');
    sender = await WsClient.connect(host.url, s.session, s.token);
    for (const stream of ['cam-wide', 'cam-close']) {
      sender.send({ type: 'register', stream, role: 'sender' });
      await sender.next('registered');
      sender.send({
        type: 'health',
        stream,
        role: 'sender',
        stats: { path: 'direct', rttMs: 12, lossPct: 0.5 },
      });
    }
    await sender.settle(); // both reports handled before the tests read them
  });
  afterAll(() => {
    for (const c of [sender, adminWs, peerWs]) c.close();
  });

  it('an admin sees every stream over HTTP and gets health pushed over WebSocket', async () => {
    const r = await call(host.url, 'GET', `/api/session/${s.session}/health`, { token: s.token });
    expect(r.status).toBe(200);
    const streams = new Set(
      (r.json as { samples: { stream: string }[] }).samples.map((x) => x.stream),
    );
    expect(streams).toEqual(new Set(['cam-wide', 'cam-close']));
    const pushed = await adminWs.next('health', (m) => m.stream === 'cam-close');
    expect(pushed).toMatchObject({
      role: 'sender',
      stats: { path: 'direct', rttMs: 12, lossPct: 0.5 },
    });
    expect(typeof pushed.at).toBe('number');
  });
  it('a scoped peer sees its own stream only', async () => {
    const own = await call(host.url, 'GET', `/api/session/${s.session}/health`, { token: wide });
    expect(own.status).toBe(200);
    const samples = (own.json as { samples: { stream: string }[] }).samples;
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((x) => x.stream === 'cam-wide')).toBe(true);
    const other = await call(host.url, 'GET', `/api/session/${s.session}/health?stream=cam-close`, {
      token: wide,
    });
    expect([other.status, codeOf(other)]).toEqual([403, 'ERR_STREAM_FORBIDDEN']);
    // Whether a stream name exists is not revealed either.
    const probe = await call(host.url, 'GET', `/api/session/${s.session}/health?stream=no-such`, {
      token: wide,
    });
    expect([probe.status, codeOf(probe)]).toEqual([403, 'ERR_STREAM_FORBIDDEN']);
  });
  it('a peer token for all streams still cannot read all health at once', async () => {
    const r = await call(host.url, 'GET', `/api/session/${s.session}/health`, { token: all });
    expect([r.status, codeOf(r)]).toEqual([403, 'ERR_FORBIDDEN']);
    const one = await call(host.url, 'GET', `/api/session/${s.session}/health?stream=cam-close`, {
      token: all,
    });
    expect(one.status).toBe(200);
  });
  it('health is not pushed to peers', async () => {
    // The admin socket got both pushes; the peer socket, connected before them, got none.
    expect(adminWs.all('health').map((m) => m.stream)).toEqual(['cam-wide', 'cam-close']);
    peerWs.send({ type: 'ping' });
    await peerWs.next('pong');
    expect(peerWs.all('health')).toEqual([]);
  });
  it('a peer sees only its stream in the session state', async () => {
    const r = await call(host.url, 'GET', `/api/session/${s.session}`, { token: wide });
    expect((r.json as { streams: { name: string }[] }).streams.map((x) => x.name)).toEqual([
      'cam-wide',
    ]);
    const a = await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token });
    expect((a.json as { streams: { name: string }[] }).streams.map((x) => x.name)).toEqual([
      'cam-wide',
      'cam-close',
    ]);
  });
});

describe('Set tally — admin: yes, peer: no; Receive tally — admin: yes, peer: yes (own streams)', () => {
  it('an admin sets tally over HTTP and WebSocket; everyone receives it, filtered', async () => {
    const adminWs = await WsClient.connect(host.url, s.session, s.token);
    const peerWs = await WsClient.connect(host.url, s.session, wide);
    await adminWs.next('welcome');
    await peerWs.next('welcome');

    const r = await call(host.url, 'PUT', `/api/session/${s.session}/tally`, {
      token: s.token,
      body: { program: ['cam-close'], preview: ['cam-wide'] },
    });
    expect(r.status).toBe(200);
    expect(await adminWs.next('tally')).toMatchObject({
      program: ['cam-close'],
      preview: ['cam-wide'],
    });
    expect(await peerWs.next('tally')).toMatchObject({ program: [], preview: ['cam-wide'] });

    adminWs.send({ type: 'tally', program: ['cam-wide'], preview: [] });
    expect(await adminWs.next('tally')).toMatchObject({ program: ['cam-wide'], preview: [] });
    expect(await peerWs.next('tally')).toMatchObject({ program: ['cam-wide'], preview: [] });
    adminWs.close();
    peerWs.close();
  });
  it('a peer cannot set tally', async () => {
    for (const token of [wide, all]) {
      const r = await call(host.url, 'PUT', `/api/session/${s.session}/tally`, {
        token,
        body: { program: [], preview: [] },
      });
      expect([r.status, codeOf(r)]).toEqual([403, 'ERR_FORBIDDEN']);
      const c = await WsClient.connect(host.url, s.session, token);
      c.send({ type: 'tally', program: ['cam-wide'], preview: [] });
      expect(await c.next('error')).toMatchObject({ code: 'ERR_FORBIDDEN' });
      c.close();
    }
  });
});

describe('Connection strings and passphrase — admin only', () => {
  it('an admin reads the passphrase and commands; a peer is refused', async () => {
    const r = await call(host.url, 'GET', `/api/session/${s.session}/connect`, { token: s.token });
    expect(r.status).toBe(200);
    const info = r.json as {
      passphrase: string;
      pbkeylen: number;
      streams: { name: string; commands: Record<string, string> }[];
    };
    expect(info.passphrase).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(info.pbkeylen).toBe(32);
    expect(info.streams.map((x) => x.name)).toEqual(['cam-wide', 'cam-close']);
    expect(info.streams[0]!.commands['ffmpeg-send']).toContain(`passphrase=${info.passphrase}`);
    for (const token of [wide, all]) {
      const p = await call(host.url, 'GET', `/api/session/${s.session}/connect`, { token });
      expect([p.status, codeOf(p)]).toEqual([403, 'ERR_FORBIDDEN']);
    }
  });
});

describe('cross-stream isolation', () => {
  it("a scoped peer never learns the other stream's peer endpoints", async () => {
    const u = await UdpPeer.open();
    const a = await WsClient.connect(host.url, s.session, s.token);
    a.send({ type: 'register', stream: 'cam-close', role: 'receiver' });
    const reg = await a.next('registered');
    await announce(a, u, { stream: 'cam-close', role: 'receiver' }, reg.bind as Bind);
    const peer = await WsClient.connect(host.url, s.session, wide);
    peer.send({ type: 'ping' });
    await peer.next('pong');
    expect(peer.all('peer')).toEqual([]);
    const view = await call(host.url, 'GET', `/api/session/${s.session}`, { token: wide });
    expect(JSON.stringify(view.json)).not.toContain('cam-close');
    a.close();
    peer.close();
    u.close();
  });
});
