/**
 * Where tally comes from (DESIGN.md "Tally from the switcher"): a set may name its source (a
 * bridge names its switcher); admins see who set tally last and when, in the view, in
 * `welcome` and in each `tally` push; peers never do (a bridge's source carries the
 * production's switcher address). The last writer wins, and survives a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHost, type Host } from './host.js';
import { WsClient, call, codeOf, createSession, peerToken } from './client.js';

let host: Host | undefined;
afterEach(async () => {
  await host?.stop();
  host = undefined;
});

const SOURCE = 'vMix at 10.0.0.5:8099';

describe('tally origin', () => {
  it('a PUT with a source: admins see it (view, push, welcome); peers never do', async () => {
    host = await startHost();
    const s = await createSession(host.url, { streams: ['cam-wide', 'cam-close'] });
    const all = await peerToken(host.url, s, null);
    const adminWs = await WsClient.connect(host.url, s.session, s.token);
    const peerWs = await WsClient.connect(host.url, s.session, all);
    await adminWs.next('welcome');
    await peerWs.next('welcome');
    const path = `/api/session/${s.session}`;
    // Before any set, no origin is known.
    expect((await call(host.url, 'GET', path, { token: s.token })).json).not.toHaveProperty(
      'tallyOrigin',
    );

    const r = await call(host.url, 'PUT', `${path}/tally`, {
      token: s.token,
      body: { program: ['cam-wide'], preview: [], source: SOURCE },
    });
    expect(r.status).toBe(200);
    const pushed = await adminWs.next('tally');
    expect(pushed).toMatchObject({ program: ['cam-wide'], origin: { source: SOURCE } });
    const at = (pushed.origin as { at: number }).at;
    expect(Number.isInteger(at)).toBe(true);
    const peerPush = await peerWs.next('tally');
    expect(peerPush).toMatchObject({ program: ['cam-wide'], preview: [] });
    expect(peerPush).not.toHaveProperty('origin');

    const adminView = await call(host.url, 'GET', path, { token: s.token });
    expect(adminView.json).toMatchObject({ tallyOrigin: { source: SOURCE, at } });
    const peerView = await call(host.url, 'GET', path, { token: all });
    expect(peerView.status).toBe(200);
    expect(peerView.text).not.toContain('10.0.0.5');
    expect(peerView.json).not.toHaveProperty('tallyOrigin');

    const lateAdmin = await WsClient.connect(host.url, s.session, s.token);
    expect(await lateAdmin.next('welcome')).toMatchObject({ tallyOrigin: { source: SOURCE, at } });
    const latePeer = await WsClient.connect(host.url, s.session, all);
    expect(await latePeer.next('welcome')).not.toHaveProperty('tallyOrigin');
    for (const c of [adminWs, peerWs, lateAdmin, latePeer]) c.close();
  });

  it('last writer wins: a set without a source (by hand, over HTTP or WebSocket) replaces it', async () => {
    host = await startHost();
    const s = await createSession(host.url, { streams: ['cam-wide'] });
    const path = `/api/session/${s.session}`;
    const put = (body: unknown) =>
      call(host!.url, 'PUT', `${path}/tally`, { token: s.token, body });
    expect((await put({ program: ['cam-wide'], preview: [], source: SOURCE })).status).toBe(200);
    expect((await put({ program: [], preview: ['cam-wide'] })).status).toBe(200);
    const view = await call(host.url, 'GET', path, { token: s.token });
    expect(view.json).toMatchObject({ tallyOrigin: { source: null } });

    const ws = await WsClient.connect(host.url, s.session, s.token);
    await ws.next('welcome');
    ws.send({ type: 'tally', program: ['cam-wide'], preview: [], source: 'OBS at 10.0.0.7:4455' });
    expect(await ws.next('tally')).toMatchObject({ origin: { source: 'OBS at 10.0.0.7:4455' } });
    ws.close();
  });

  it('a bad source: 400 ERR_BAD_REQUEST, and tally and its origin stay', async () => {
    host = await startHost();
    const s = await createSession(host.url, { streams: ['cam-wide'] });
    const path = `/api/session/${s.session}`;
    const ok = await call(host.url, 'PUT', `${path}/tally`, {
      token: s.token,
      body: { program: ['cam-wide'], preview: [], source: SOURCE },
    });
    expect(ok.status).toBe(200);
    for (const source of ['', ' vMix', 'vMix\nat', 'a\u202Eb', 'x'.repeat(81), 42, null]) {
      const r = await call(host.url, 'PUT', `${path}/tally`, {
        token: s.token,
        body: { program: [], preview: [], source },
      });
      expect([r.status, codeOf(r)]).toEqual([400, 'ERR_BAD_REQUEST']);
    }
    const view = await call(host.url, 'GET', path, { token: s.token });
    expect(view.json).toMatchObject({
      tally: { program: ['cam-wide'], preview: [] },
      tallyOrigin: { source: SOURCE },
    });
  });

  it('a restart keeps who set tally', async () => {
    host = await startHost();
    const s = await createSession(host.url, { streams: ['cam-wide'] });
    const path = `/api/session/${s.session}`;
    await call(host.url, 'PUT', `${path}/tally`, {
      token: s.token,
      body: { program: ['cam-wide'], preview: [], source: SOURCE },
    });
    const before = await call(host.url, 'GET', path, { token: s.token });
    await host.restart();
    const after = await call(host.url, 'GET', path, { token: s.token });
    expect(after.status).toBe(200);
    expect((after.json as { tallyOrigin: unknown }).tallyOrigin).toEqual(
      (before.json as { tallyOrigin: unknown }).tallyOrigin,
    );
  });
});
