/**
 * TURN on the Cloudflare host (DESIGN.md "The relay", "External TURN"), on a local workerd,
 * checked with real coturn: allocations are made with the credentials the sockets got.
 * - coturn (`PUNCH_TURN_URLS` + `PUNCH_TURN_SECRET`): session sockets' `registered.relay` and
 *   project peers' `welcome.iceServers` carry TURN REST credentials that coturn accepts.
 * - Cloudflare Realtime TURN (`PUNCH_CF_TURN_KEY_ID` + `PUNCH_CF_TURN_API_TOKEN`, and
 *   `PUNCH_CF_TURN_API` pointing at a stand-in of the API on loopback): the API is asked with
 *   the key's token and a TTL ending with the token (48 h at most), sockets get exactly what
 *   it answered, closing a session or deleting a key revokes what was handed out for it, and
 *   an API that fails or hangs leaves the socket working without relay.
 * The Worker reaches the stand-in with a plain `fetch` to 127.0.0.1: Miniflare lets workerd
 * connect to loopback, so no outbound service or fetch mock stands in between.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAttribute } from '@punch/core';
import { TurnTestClient, codeOf } from '../integration/turn-test-client.js';
import {
  WsClient,
  call,
  createSession,
  peerToken,
  type Created,
  type Msg,
} from '../conformance/client.js';
import { startWorkerdHost, type Host } from '../conformance/host.js';
import { mint, newAccount, newProject, signal, uploadKey } from '../conformance/projects-client.js';
import { CloudflareTurnStandIn } from './cloudflare-turn-api.js';
import { hasCoturn, startCoturn, type Coturn } from '../coturn.js';

const COTURN_SECRET = 'workerd-turn-test-secret-0123456789';
const KEY_ID = '2a95132c15732412d22c1476fa83f27a';
const API_TOKEN = 'cf-turn-api-token-never-logged-0123456789';

const coturnHere = hasCoturn();
if (!coturnHere) {
  process.stderr.write(
    '\n!!! SKIPPING the Workers TURN tests: coturn is not installed (apt-get install coturn)\n',
  );
  if (process.env.CI === 'true') throw new Error('coturn is required under CI');
}

interface Relay {
  urls: string[];
  username: string;
  credential: string;
  expiresAt: number;
}
type Ice = { urls: string[]; username?: string; credential?: string }[];

let coturn: Coturn;
let server: { host: string; port: number };
const clients: TurnTestClient[] = [];

beforeAll(async () => {
  if (!coturnHere) return;
  coturn = await startCoturn(COTURN_SECRET);
  server = { host: '127.0.0.1', port: coturn.port };
});
afterAll(() => {
  for (const c of clients.splice(0)) c.close();
  coturn?.stop();
});

/** Allocates on coturn with `username`/`credential`; resolves to the TURN error code (0: success). */
async function allocate(username: string, credential: string): Promise<number> {
  const c = await TurnTestClient.open(server);
  clients.push(c);
  const answer = await c.allocate(username, credential);
  if (codeOf(answer) === 0)
    expect(findAttribute(answer.attributes, 'XOR-RELAYED-ADDRESS')?.address?.ip).toBe('127.0.0.1');
  return codeOf(answer);
}

async function agent(
  host: Host,
  s: Created,
  role: 'sender' | 'receiver',
  ttl: number,
): Promise<{ ws: WsClient; registered: Msg }> {
  const ws = await WsClient.connect(
    host.url,
    s.session,
    await peerToken(host.url, s, 'cam-1', ttl),
  );
  ws.send({ type: 'register', stream: 'cam-1', role });
  return { ws, registered: await ws.next('registered') };
}

/** Waits (bounded) until `done` holds, polling every 50 ms for at most 10 s. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
}

const turnOf = (ice: Ice) => ice.find((x) => x.urls.some((u) => u.startsWith('turn:')));

describe.skipIf(!coturnHere)('coturn: PUNCH_TURN_URLS + PUNCH_TURN_SECRET', () => {
  let host: Host;
  let turnUrl: string;
  beforeAll(async () => {
    turnUrl = `turn:127.0.0.1:${coturn.port}?transport=udp`;
    host = await startWorkerdHost({ turn: { secret: COTURN_SECRET, urls: [turnUrl] } });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it("a session socket's registered.relay allocates on coturn; a forged credential does not", async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const a = await agent(host, s, 'sender', 300);
    const relay = a.registered.relay as Relay;
    expect(relay.urls).toEqual([turnUrl]);
    expect(relay.username).toMatch(new RegExp(`^${relay.expiresAt}:${s.session}/[A-Za-z0-9_-]+$`));
    expect(await allocate(relay.username, relay.credential)).toBe(0);
    expect(await allocate(relay.username, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')).toBe(401);
    a.ws.close();
  });

  it("a project peer's welcome.iceServers allocates on coturn", async () => {
    const acct = await newAccount(host, 'turn');
    const p = await newProject(host.url, acct);
    const k = await uploadKey(host.url, acct, p);
    const c = await signal(host.url, await mint(k, { group: 'g', peer: 'alice', ttl: 600 }));
    const turn = turnOf((await c.next('welcome')).iceServers as Ice);
    expect(turn?.urls).toEqual([turnUrl]);
    expect(await allocate(turn!.username!, turn!.credential!)).toBe(0);
    c.close();
    expect(host.logs.join('\n')).not.toContain(COTURN_SECRET);
  });
});

describe.skipIf(!coturnHere)('Cloudflare Realtime TURN (a stand-in of its API)', () => {
  let host: Host;
  let api: CloudflareTurnStandIn;
  beforeAll(async () => {
    api = await CloudflareTurnStandIn.start(KEY_ID, API_TOKEN, {
      secret: COTURN_SECRET,
      port: coturn.port,
    });
    host = await startWorkerdHost({
      bindings: {
        PUNCH_CF_TURN_KEY_ID: KEY_ID,
        PUNCH_CF_TURN_API_TOKEN: API_TOKEN,
        PUNCH_CF_TURN_API: api.url,
        // Sessions longer than the API's 48 h credential cap, past the default 24 h session cap.
        PUNCH_MAX_TTL: String(7 * 24 * 3600),
      },
    });
  });
  afterAll(async () => {
    await host?.stop();
    await api?.stop();
  });

  it('sockets get what the API minted, with the TTL of their token (48 h at most), and it allocates', async () => {
    api.mode = 'ok';
    const before = api.generated.length;
    const s = await createSession(host.url, { streams: ['cam-1'], ttl: 3 * 24 * 3600 });
    // A token for three days: the TTL asked for is the API's cap.
    const long = await agent(host, s, 'sender', 3 * 24 * 3600);
    const short = await agent(host, s, 'receiver', 300);
    const calls = api.generated.slice(before);
    expect(calls.map((g) => [g.keyId, g.auth])).toEqual([
      [KEY_ID, `Bearer ${API_TOKEN}`],
      [KEY_ID, `Bearer ${API_TOKEN}`],
    ]);
    expect(calls[0]!.ttl).toBe(48 * 3600);
    // The token's remaining lifetime when the socket was seated: its 300 s less the moments
    // between minting it and connecting.
    expect(calls[1]!.ttl).toBeLessThanOrEqual(300);
    expect(calls[1]!.ttl).toBeGreaterThan(240);
    for (const [i, side] of [long, short].entries()) {
      const relay = side.registered.relay as Relay;
      const g = calls[i]!;
      expect(relay).toMatchObject({
        urls: g.answer.iceServers[1]!.urls,
        username: g.username,
        credential: g.credential,
      });
      expect(await allocate(relay.username, relay.credential)).toBe(0);
    }
    long.ws.close();
    short.ws.close();
    expect(api.refused).toEqual([]);
  });

  it('DELETE of the session revokes every credential issued to it', async () => {
    api.mode = 'ok';
    const before = api.generated.length;
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const sides = [await agent(host, s, 'sender', 600), await agent(host, s, 'receiver', 600)];
    const issued = api.generated.slice(before).map((g) => g.username);
    expect(issued).toHaveLength(2);
    expect(sides.map((x) => (x.registered.relay as Relay).username)).toEqual(issued);
    const revokedBefore = api.revoked.length;
    const del = await call(host.url, 'DELETE', `/api/session/${s.session}`, { token: s.token });
    expect(del.status).toBeLessThan(300);
    await until(() => api.revoked.length - revokedBefore >= issued.length);
    const revoked = api.revoked.slice(revokedBefore);
    expect(revoked.map((r) => r.username).sort()).toEqual([...issued].sort());
    expect(revoked.every((r) => r.auth === `Bearer ${API_TOKEN}` && r.keyId === KEY_ID)).toBe(true);
    for (const x of sides) x.ws.close();
  });

  it('no credential outlives its session: they end with it, and a PATCH never shortens it', async () => {
    api.mode = 'ok';
    const s = await createSession(host.url, { streams: ['cam-1'], ttl: 600 });
    const ws = await WsClient.connect(host.url, s.session, s.token);
    ws.send({ type: 'register', stream: 'cam-1', role: 'receiver' });
    const first = (await ws.next('registered')).relay as Relay;
    expect(first.expiresAt).toBeLessThanOrEqual(s.expiresAt);
    // Asking for less than is left changes nothing (DESIGN.md "Streams on show day"), so the
    // credentials already out can never outlive the session.
    const r = await call(host.url, 'PATCH', `/api/session/${s.session}`, {
      token: s.token,
      body: { ttl: 5 },
    });
    expect((r.json as { expiresAt: number }).expiresAt).toBe(s.expiresAt);
    ws.close();
  });

  it('an evicted session object keeps each socket its last credentials, and still revokes them all', async () => {
    api.mode = 'ok';
    const before = api.generated.length;
    const s = await createSession(host.url, { streams: ['cam-1'], ttl: 600 });
    // The session's own token: it lives as long as the session, so an extension renews it.
    const ws = await WsClient.connect(host.url, s.session, s.token);
    ws.send({ type: 'register', stream: 'cam-1', role: 'receiver' });
    const first = (await ws.next('registered')).relay as Relay;
    const ext = await call(host.url, 'PATCH', `/api/session/${s.session}`, {
      token: s.token,
      body: { ttl: 1200 },
    });
    expect(ext.status).toBe(200);
    const renewed = (await ws.next('token')).relay as Relay;
    expect(renewed.username).not.toBe(first.username);
    expect(api.generated.slice(before).map((g) => g.username)).toEqual([
      first.username,
      renewed.username,
    ]);

    // Idle, with its socket open, workerd evicts the object after about 10 s (see
    // cloudflare.test.ts); registering again wakes it, and the socket is told the credentials
    // it last got, from its attachment: nothing is minted again.
    const woke = (): boolean =>
      host.logs.some((l) => l.includes('session woke from hibernation') && l.includes(s.session));
    await new Promise((r) => setTimeout(r, 15_000));
    ws.send({ type: 'register', stream: 'cam-1', role: 'receiver' });
    expect((await ws.next('registered')).relay).toEqual(renewed);
    expect(woke()).toBe(true);
    expect(api.generated.length - before).toBe(2);

    const revokedBefore = api.revoked.length;
    await call(host.url, 'DELETE', `/api/session/${s.session}`, { token: s.token });
    await until(() => api.revoked.length - revokedBefore >= 2);
    expect(
      api.revoked
        .slice(revokedBefore)
        .map((r) => r.username)
        .sort(),
    ).toEqual([first.username, renewed.username].sort());
    ws.close();
  }, 60_000);

  it("project peers get the API's iceServers; deleting their key revokes theirs, no other key's", async () => {
    api.mode = 'ok';
    const acct = await newAccount(host, 'cfturn');
    const p = await newProject(host.url, acct);
    const doomed = await uploadKey(host.url, acct, p);
    const kept = await uploadKey(host.url, acct, p);
    const before = api.generated.length;
    const peers = [
      await signal(host.url, await mint(doomed, { group: 'g', peer: 'alice', ttl: 600 })),
      await signal(host.url, await mint(doomed, { group: 'g', peer: 'bob', ttl: 600 })),
      await signal(host.url, await mint(kept, { group: 'g', peer: 'carol', ttl: 600 })),
    ];
    const welcomes = await Promise.all(peers.map((c) => c.next('welcome')));
    const calls = api.generated.slice(before);
    expect(calls).toHaveLength(3);
    for (const [i, w] of welcomes.entries()) {
      expect(w.iceServers).toEqual(calls[i]!.answer.iceServers);
    }
    const alice = turnOf(welcomes[0]!.iceServers as Ice)!;
    expect(await allocate(alice.username!, alice.credential!)).toBe(0);

    const revokedBefore = api.revoked.length;
    const del = await call(host.url, 'DELETE', `/api/projects/${p}/keys/${doomed.kid}`, {
      token: acct.key,
    });
    expect(del.status).toBeLessThan(300);
    await until(() => api.revoked.length - revokedBefore >= 2);
    expect(
      api.revoked
        .slice(revokedBefore)
        .map((r) => r.username)
        .sort(),
    ).toEqual([calls[0]!.username, calls[1]!.username].sort());
    for (const c of peers) c.close();
  });

  it('an API answering 500 leaves the socket working without relay, logged without the token', async () => {
    api.mode = 'error';
    try {
      const s = await createSession(host.url, { streams: ['cam-1'] });
      const a = await agent(host, s, 'sender', 300);
      expect(a.registered.relay).toBeNull();
      // Still seated and talking: the room answers the next message.
      a.ws.send({ type: 'ping' });
      await a.ws.next('pong');
      expect(a.ws.closeCode).toBeUndefined();
      const acct = await newAccount(host, 'cfdown');
      const k = await uploadKey(host.url, acct, await newProject(host.url, acct));
      const c = await signal(host.url, await mint(k, { group: 'g', peer: 'dan', ttl: 600 }));
      expect((await c.next('welcome')).iceServers).toEqual([]);
      c.close();
      a.ws.close();
      const logs = host.logs.join('\n');
      expect(logs).toContain('Cloudflare TURN: no credentials minted');
      expect(logs).toContain('"status":500');
      expect(logs).not.toContain(API_TOKEN);
    } finally {
      api.mode = 'ok';
    }
  });

  it('an API that never answers leaves the socket working without relay', async () => {
    api.mode = 'hang';
    try {
      const s = await createSession(host.url, { streams: ['cam-1'] });
      const a = await agent(host, s, 'sender', 300);
      expect(a.registered.relay).toBeNull();
      expect(a.ws.closeCode).toBeUndefined();
      a.ws.close();
      expect(host.logs.join('\n')).toContain('"reason":"timeout"');
    } finally {
      api.mode = 'ok';
    }
  });
});

describe('a half-configured TURN', () => {
  it('fails requests with the variable to set, rather than quietly giving no relay', async () => {
    const host = await startWorkerdHost({ bindings: { PUNCH_CF_TURN_KEY_ID: KEY_ID } });
    try {
      const r = await call(host.url, 'POST', '/api/session', { body: {} });
      expect(r.status).toBe(500);
      expect((r.json as { detail: string }).detail).toMatch(/PUNCH_CF_TURN_API_TOKEN/);
      expect(host.logs.join('\n')).toContain('TURN configuration refused');
    } finally {
      await host.stop();
    }
  });
});
