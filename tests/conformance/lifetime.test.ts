/**
 * A session's lifetime: extension with token refresh, closing, TTL expiry deleting every row and
 * closing every socket, restart recovery, and signing-secret rotation without cutting a show.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KeyRing, verifyToken } from '@punch/core';
import { HOST_KIND, startHost, type Host } from './host.js';
import {
  UdpPeer,
  WsClient,
  announce,
  call,
  codeOf,
  createSession,
  peerToken,
  type Bind,
} from './client.js';

let host: Host | undefined;
afterEach(async () => {
  await host?.stop();
  host = undefined;
});

describe('lifetime', () => {
  it("PATCH extends the session, returns a fresh admin token and refreshes connected peers' tokens", async () => {
    host = await startHost();
    const s = await createSession(host.url, { ttl: 600, streams: ['cam-1'] });
    const peer = await peerToken(host.url, s, 'cam-1');
    const c = await WsClient.connect(host.url, s.session, peer);
    await c.next('welcome');
    const r = await call(host.url, 'PATCH', `/api/session/${s.session}`, {
      token: s.token,
      body: { ttl: 3600 },
    });
    expect(r.status).toBe(200);
    const ext = r.json as { token: string; expiresAt: number };
    expect(ext.expiresAt).toBeGreaterThan(s.expiresAt);
    const fresh = await c.next('token');
    expect(fresh.expiresAt).toBe(ext.expiresAt);
    const { claims } = await verifyToken(
      await KeyRing.fromSecrets(host.secret),
      fresh.token as string,
      { now: Date.now() / 1000 },
    );
    expect(claims).toMatchObject({
      session: s.session,
      role: 'peer',
      stream: 'cam-1',
      exp: ext.expiresAt,
    });
    const view = await call(host.url, 'GET', `/api/session/${s.session}`, { token: ext.token });
    expect((view.json as { expiresAt: number }).expiresAt).toBe(ext.expiresAt);
    c.close();
  });

  it('PATCH never shortens: less than is left keeps the end, and still answers a fresh admin token', async () => {
    host = await startHost();
    const s = await createSession(host.url, { ttl: 7200, streams: ['cam-1'] });
    const r = await call(host.url, 'PATCH', `/api/session/${s.session}`, {
      token: s.token,
      body: { ttl: 600 },
    });
    expect(r.status).toBe(200);
    const ext = r.json as { token: string; expiresAt: number };
    expect(ext.expiresAt).toBe(s.expiresAt);
    const view = await call(host.url, 'GET', `/api/session/${s.session}`, { token: ext.token });
    expect(view.status).toBe(200);
    expect((view.json as { expiresAt: number }).expiresAt).toBe(s.expiresAt);
    // More than is left moves the end: to now + ttl, not to the current end + ttl.
    const longer = await call(host.url, 'PATCH', `/api/session/${s.session}`, {
      token: s.token,
      body: { ttl: 10_800 },
    });
    const moved = (longer.json as { expiresAt: number }).expiresAt;
    expect(moved).toBeGreaterThanOrEqual(s.expiresAt + 3600 - 5);
    expect(moved).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 10_800);
  });

  it('DELETE tells every peer `closed`, disconnects them and deletes every row', async () => {
    host = await startHost();
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const c = await WsClient.connect(host.url, s.session, s.token);
    c.send({ type: 'register', stream: 'cam-1', role: 'sender' });
    await c.next('registered');
    c.send({ type: 'health', stream: 'cam-1', role: 'sender', stats: { rttMs: 4 } });
    await c.next('health');
    expect(await host.rowCounts(s.session)).toEqual({ sessions: 1, health: 1 });
    expect(
      (await call(host.url, 'DELETE', `/api/session/${s.session}`, { token: s.token })).status,
    ).toBe(204);
    expect(await c.next('closed')).toMatchObject({ reason: 'closed' });
    expect(await c.closed).toBe(4410);
    const r = await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token });
    expect([r.status, codeOf(r)]).toEqual([404, 'ERR_SESSION_NOT_FOUND']);
    expect(await host.rowCounts(s.session)).toEqual({ sessions: 0, health: 0 });
    // The name is free again.
    expect(
      (await call(host.url, 'POST', '/api/session', { body: { name: s.session } })).status,
    ).toBe(201);
  });

  it('at its TTL a session ends: sockets closed, rows deleted, tokens expired', async () => {
    host = await startHost();
    const s = await createSession(host.url, { ttl: 5, streams: ['cam-1'] });
    const c = await WsClient.connect(host.url, s.session, s.token);
    c.send({ type: 'register', stream: 'cam-1', role: 'sender' });
    await c.next('registered');
    c.send({ type: 'health', stream: 'cam-1', role: 'sender', stats: { path: 'direct' } });
    await c.next('health');
    expect((await host.rowCounts(s.session)).health).toBe(1);
    const other = await createSession(host.url, { ttl: 600 });
    expect(await c.next('closed', () => true, 10_000)).toMatchObject({ reason: 'expired' });
    expect(await c.closed).toBe(4410);
    expect(await host.rowCounts(s.session)).toEqual({ sessions: 0, health: 0 });
    const r = await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token });
    expect([r.status, codeOf(r)]).toEqual([401, 'ERR_TOKEN_EXPIRED']);
    // Independent TTLs: the other session lives on.
    expect(
      (await call(host.url, 'GET', `/api/session/${other.session}`, { token: other.token })).status,
    ).toBe(200);
  });

  it('a restart keeps live sessions, tally, health history and tokens; peers pair again', async () => {
    host = await startHost();
    const s = await createSession(host.url, { streams: ['cam-1', 'cam-2'] });
    const peer = await peerToken(host.url, s, 'cam-1');
    await call(host.url, 'PUT', `/api/session/${s.session}/tally`, {
      token: s.token,
      body: { program: ['cam-1'], preview: ['cam-2'] },
    });
    const before = (
      await call(host.url, 'GET', `/api/session/${s.session}/connect`, { token: s.token })
    ).json as { passphrase: string };
    const c = await WsClient.connect(host.url, s.session, peer);
    c.send({ type: 'register', stream: 'cam-1', role: 'sender' });
    await c.next('registered');
    c.send({ type: 'health', stream: 'cam-1', role: 'sender', stats: { rttMs: 7 } });
    c.send({ type: 'ping' });
    await c.next('pong');

    await host.restart();
    // Node says "going away" (1001); a restarted workerd drops its sockets (1006). Agents
    // reconnect either way.
    expect(await c.closed).toBe(HOST_KIND === 'node' ? 1001 : 1006);

    const view = await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token });
    expect(view.status).toBe(200);
    expect(view.json).toMatchObject({
      session: s.session,
      expiresAt: s.expiresAt,
      tally: { program: ['cam-1'], preview: ['cam-2'] },
    });
    const health = await call(host.url, 'GET', `/api/session/${s.session}/health`, { token: peer });
    expect(
      (health.json as { samples: { stats: { rttMs: number } }[] }).samples.map(
        (x) => x.stats.rttMs,
      ),
    ).toEqual([7]);

    // Both sides come back with their old tokens and are paired with the same passphrase.
    const sender = await WsClient.connect(host.url, s.session, peer);
    const receiver = await WsClient.connect(host.url, s.session, s.token);
    expect(await sender.next('welcome')).toMatchObject({
      tally: { program: ['cam-1'], preview: [] },
    });
    const udps = [await UdpPeer.open(), await UdpPeer.open()];
    for (const [i, [ws, role]] of (
      [
        [sender, 'sender'],
        [receiver, 'receiver'],
      ] as const
    ).entries()) {
      ws.send({ type: 'register', stream: 'cam-1', role });
      const bind = (await ws.next('registered')).bind as Bind;
      await announce(ws, udps[i]!, { stream: 'cam-1', role }, bind);
    }
    expect((await sender.next('peer')).passphrase).toBe(before.passphrase);
    expect((await receiver.next('peer')).passphrase).toBe(before.passphrase);
    sender.close();
    receiver.close();
    for (const u of udps) u.close();
  });

  it('rotating the secret keeps old tokens working (PUNCH_SECRET_PREVIOUS) and hands out fresh ones', async () => {
    const oldSecret = 'old-secret-0123456789-0123456789-abcdef';
    const newSecret = 'new-secret-0123456789-0123456789-abcdef';
    host = await startHost({ secret: oldSecret });
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const peer = await peerToken(host.url, s, 'cam-1');

    await host.restart({ secret: newSecret, previousSecret: oldSecret });
    expect(
      (await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token })).status,
    ).toBe(200);
    const c = await WsClient.connect(host.url, s.session, peer);
    await c.next('welcome');
    const fresh = (await c.next('token')).token as string;
    // The fresh token is signed with the new secret only.
    await expect(
      verifyToken(await KeyRing.fromSecrets(oldSecret), fresh, { now: Date.now() / 1000 }),
    ).rejects.toMatchObject({ code: 'ERR_TOKEN_SIGNATURE' });
    expect(
      (await verifyToken(await KeyRing.fromSecrets(newSecret), fresh, { now: Date.now() / 1000 }))
        .claims.stream,
    ).toBe('cam-1');
    // New tokens are signed with the new secret.
    const minted = await peerToken(host.url, s, 'cam-1');
    await verifyToken(await KeyRing.fromSecrets(newSecret), minted, { now: Date.now() / 1000 });
    c.close();

    // Once the old secret is dropped, tokens signed with it stop working; fresh ones go on.
    await host.restart({ secret: newSecret });
    const old = await call(host.url, 'GET', `/api/session/${s.session}/health`, { token: peer });
    expect([old.status, codeOf(old)]).toEqual([401, 'ERR_TOKEN_SIGNATURE']);
    expect(
      (await call(host.url, 'GET', `/api/session/${s.session}/health`, { token: fresh })).status,
    ).toBe(200);
  });
});
