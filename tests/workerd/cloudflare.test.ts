/**
 * What only the Cloudflare host does, on a local workerd: endpoints checked against the IP the
 * edge saw (CF-Connecting-IP), and sessions that survive their Durable Object's eviction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WsClient, call, createSession, peerToken, type Created } from '../conformance/client.js';
import { OPERATOR_KEY, startWorkerdHost, type Host } from '../conformance/host.js';
import { mint, newAccount, newProject, signal, uploadKey } from '../conformance/projects-client.js';

let host: Host;
beforeAll(async () => {
  host = await startWorkerdHost();
});
afterAll(async () => {
  await host.stop();
});

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function registered(
  s: Created,
  token: string,
  stream: string,
  role: 'sender' | 'receiver',
  headers?: Record<string, string>,
): Promise<WsClient> {
  const ws = await WsClient.connect(
    host.url,
    s.session,
    token,
    headers === undefined ? {} : { headers },
  );
  ws.send({ type: 'register', stream, role });
  expect(await ws.next('registered')).toMatchObject({ stream, role, bind: null });
  return ws;
}

describe('the edge', () => {
  it('answers a malformed session path with 404, before any object', async () => {
    for (const path of ['/api/session/%E0%A4%A', '/api/session/%ZZ/ws', '/api/session/UPPER']) {
      const r = await call(host.url, 'GET', path);
      expect([path, r.status, (r.json as { code: string }).code]).toEqual([
        path,
        404,
        'ERR_SESSION_NOT_FOUND',
      ]);
    }
  });
});

describe('endpoints without UDP', () => {
  it('welcome names no STUN server of Punch, and registered no binding: agents use their own', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const ws = await WsClient.connect(host.url, s.session, s.token);
    expect(await ws.next('welcome')).toMatchObject({ stun: null });
    ws.close();
  });

  it('a claimed endpoint must carry the IP the edge saw (CF-Connecting-IP), nothing else', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    // Miniflare keeps a client-sent CF-Connecting-IP (Cloudflare's edge overwrites it): here it
    // stands for the public address a NAT gave this agent.
    const ws = await registered(s, s.token, 'cam-1', 'sender', {
      'cf-connecting-ip': '203.0.113.7',
    });
    ws.send({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'sender',
      public: { ip: '127.0.0.1', port: 4000 },
    });
    expect(await ws.next('error')).toMatchObject({ code: 'ERR_ENDPOINT_MISMATCH' });
    ws.send({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'sender',
      public: { ip: '198.51.100.9', port: 4000 },
    });
    expect(await ws.next('error')).toMatchObject({ code: 'ERR_ENDPOINT_MISMATCH' });
    ws.send({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'sender',
      public: { ip: '203.0.113.7', port: 4000 },
    });
    expect(
      await ws.next('stream', (m) => (m.sender as { endpoint: boolean }).endpoint),
    ).toMatchObject({ name: 'cam-1', state: 'waiting' });
    const view = await call(host.url, 'GET', `/api/session/${s.session}/connect`, {
      token: s.token,
    });
    expect((view.json as { streams: { sender: unknown }[] }).streams[0]?.sender).toEqual({
      ip: '203.0.113.7',
      port: 4000,
    });
    ws.close();
  });
});

describe('hibernation', () => {
  it('an evicted session object keeps the session, its peers’ identities, slots and passphrase', async () => {
    const s = await createSession(host.url, { streams: ['cam-1', 'cam-2'], ttl: 600 });
    const passphrase = (
      (await call(host.url, 'GET', `/api/session/${s.session}/connect`, { token: s.token }))
        .json as { passphrase: string }
    ).passphrase;
    const sender = await registered(s, await peerToken(host.url, s, 'cam-1'), 'cam-1', 'sender');
    const receiver = await registered(s, s.token, 'cam-1', 'receiver');
    sender.send({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'sender',
      public: { ip: '127.0.0.1', port: 5000 },
    });
    await sender.settle();

    // Idle, with every socket open, workerd evicts the object after about 10 s (hibernatable
    // sockets hold nothing in memory); the next message builds it again, and it says so.
    const woke = (): boolean =>
      host.logs.some((l) => l.includes('session woke from hibernation') && l.includes(s.session));
    await wait(15_000);
    expect(woke()).toBe(false);
    expect([sender.closeCode, receiver.closeCode]).toEqual([undefined, undefined]);

    // The receiver's endpoint completes the pair: the sender's slot and endpoint were kept, and
    // both get the passphrase the session had before.
    receiver.send({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'receiver',
      public: { ip: '127.0.0.1', port: 5002 },
    });
    const [ps, pr] = await Promise.all([sender.next('peer'), receiver.next('peer')]);
    expect(woke()).toBe(true);
    expect(ps).toMatchObject({
      role: 'sender',
      passphrase,
      remote: { ip: '127.0.0.1', port: 5002 },
    });
    expect(pr).toMatchObject({
      role: 'receiver',
      passphrase,
      remote: { ip: '127.0.0.1', port: 5000 },
    });

    // The sender is still the cam-1 peer it was: no other stream, no tally, no admin rights.
    sender.send({ type: 'register', stream: 'cam-2', role: 'sender' });
    expect(await sender.next('error')).toMatchObject({ code: 'ERR_STREAM_FORBIDDEN' });
    sender.send({ type: 'tally', program: ['cam-1'], preview: [] });
    expect(await sender.next('error')).toMatchObject({ code: 'ERR_FORBIDDEN' });
    // The admin still is one: its tally reaches the sender, filtered to cam-1.
    receiver.send({ type: 'tally', program: ['cam-2'], preview: ['cam-1'] });
    expect(await sender.next('tally')).toEqual({ type: 'tally', program: [], preview: ['cam-1'] });
    const view = await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token });
    expect(view.json).toMatchObject({
      streams: [{ name: 'cam-1', state: 'paired' }, { name: 'cam-2' }],
    });
    sender.close();
    receiver.close();
  }, 60_000);
});

describe('hibernation of a signalling room', () => {
  it('an evicted room takes its peers back: policies kept, signals delivered, no second welcome', async () => {
    const ada = await newAccount(host, 'hib');
    const project = await newProject(host.url, ada);
    const key = await uploadKey(host.url, ada, project);
    const alice = await signal(
      host.url,
      await mint(key, { group: 'g', peer: 'alice', allow: [{ group: 'g', peer: 'bob' }] }),
    );
    const bob = await signal(host.url, await mint(key, { group: 'g', peer: 'bob' }));
    await alice.next('welcome');
    await bob.next('welcome');
    // Alice refreshes her token with a wider policy before the room goes idle: the refreshed
    // identity, not the first one, must come back.
    alice.send({
      type: 'token',
      token: await mint(key, {
        group: 'g',
        peer: 'alice',
        allow: [
          { group: 'g', peer: 'bob' },
          { group: 'g', peer: 'dave' },
        ],
        ttl: 1800,
      }),
    });
    const refreshed = await alice.next('refreshed');

    const woke = (): boolean =>
      host.logs.some((l) => l.includes('signal room woke from hibernation') && l.includes(project));
    await wait(15_000);
    expect(woke()).toBe(false);

    alice.send({ type: 'signal', to: { group: 'g', peer: 'bob' }, payload: { sdp: 'offer' } });
    expect(await bob.next('signal')).toMatchObject({
      from: { group: 'g', peer: 'alice' },
      payload: { sdp: 'offer' },
    });
    expect(woke()).toBe(true);
    // Alice's refreshed policy survived: dave is within reach now (offline), carol still not.
    alice.send({ type: 'signal', to: { group: 'g', peer: 'dave' }, payload: 1, ref: 'd' });
    expect(await alice.next('error')).toMatchObject({ code: 'ERR_PEER_UNAVAILABLE', ref: 'd' });
    alice.send({ type: 'signal', to: { group: 'g', peer: 'carol' }, payload: 1, ref: 'c' });
    expect(await alice.next('error')).toMatchObject({ code: 'ERR_POLICY_DENIED', ref: 'c' });
    expect(refreshed.expiresAt).toBeGreaterThan(Date.now() / 1000 + 1700);
    bob.send({ type: 'signal', to: { group: 'g', peer: 'alice' }, payload: 'answer' });
    expect(await alice.next('signal')).toMatchObject({ payload: 'answer' });
    expect(alice.all('welcome')).toHaveLength(1);
    alice.close();
    bob.close();
  }, 60_000);
});

describe('accounts: the operator route', () => {
  const create = (name: unknown, token?: string) =>
    call(host.url, 'POST', '/api/accounts', {
      body: { name },
      ...(token === undefined ? {} : { token }),
    });

  it('creates an account with the operator key; its pa_ key works once, is not stored', async () => {
    const r = await create('grace', OPERATOR_KEY);
    expect(r.status).toBe(201);
    const { account, key } = r.json as { account: string; key: string };
    expect(account).toBe('grace');
    expect(key).toMatch(/^pa_/);
    const mine = await call(host.url, 'GET', '/api/projects', { token: key });
    expect(mine.status).toBe(200);
    expect(host.logs.join('\n')).not.toContain(key);
  });

  it('refuses a taken name (409), a bad name (400), and anyone without the operator key (401)', async () => {
    expect((await create('linus', OPERATOR_KEY)).status).toBe(201);
    const taken = await create('linus', OPERATOR_KEY);
    expect([taken.status, (taken.json as { code: string }).code]).toEqual([
      409,
      'ERR_ACCOUNT_EXISTS',
    ]);
    expect((await create('Not A Name', OPERATOR_KEY)).status).toBe(400);
    for (const token of [undefined, 'wrong', `${OPERATOR_KEY}x`, OPERATOR_KEY.slice(0, -1)]) {
      const r = await create('mallory', token);
      expect([r.status, (r.json as { code: string }).code]).toEqual([401, 'ERR_UNAUTHENTICATED']);
    }
    expect(host.logs.join('\n')).not.toContain(OPERATOR_KEY);
  });
});
