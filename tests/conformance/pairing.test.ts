/**
 * Endpoint discovery and pairing with real UDP sockets speaking STUN to the host's STUN port,
 * as `punch peer` does from its media socket. A host without UDP (Workers) is told the endpoint
 * with `endpoint`, as the agent does after asking a STUN server of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAN, startHost, type Host } from './host.js';
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

interface Side {
  ws: WsClient;
  udp: UdpPeer;
  stream: string;
  role: 'sender' | 'receiver';
  /** Where to send STUN; null on a host without STUN of its own. */
  bind: Bind;
}

async function join(
  s: Created,
  token: string,
  role: 'sender' | 'receiver',
  stream = 'cam-1',
): Promise<Side> {
  const ws = await WsClient.connect(host.url, s.session, token);
  ws.send({ type: 'register', stream, role });
  const reg = await ws.next('registered');
  expect(reg).toMatchObject({ stream, role });
  const bind = reg.bind as Side['bind'];
  return { ws, udp: await UdpPeer.open(), stream, role, bind };
}

async function stun(side: Side, udp = side.udp): Promise<{ ip: string; port: number }> {
  return announce(side.ws, udp, side, side.bind);
}

function close(...sides: Side[]): void {
  for (const x of sides) {
    x.ws.close();
    x.udp.close();
  }
}

const state = async (s: Created): Promise<string> => {
  const r = await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token });
  return (r.json as { streams: { state: string }[] }).streams[0]!.state;
};

describe('pairing', () => {
  it("STUN from each media socket pairs the stream: both get `peer` with the other's observed endpoint", async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    expect(await state(s)).toBe('idle');
    const sender = await join(s, await peerToken(host.url, s, 'cam-1'), 'sender');
    if (CAN.stun) {
      expect(sender.bind).toMatchObject({ host: '127.0.0.1', port: host.stunPort });
      expect(sender.bind?.username).toMatch(/^[a-z0-9]{16,}$/);
    } else {
      expect(sender.bind).toBeNull();
    }
    expect(await state(s)).toBe('waiting');
    const receiver = await join(s, await peerToken(host.url, s, 'cam-1'), 'receiver');

    const mappedS = await stun(sender);
    expect(mappedS).toEqual({ ip: '127.0.0.1', port: sender.udp.port });
    expect(await state(s)).toBe('waiting');
    const mappedR = await stun(receiver);
    expect(mappedR).toEqual({ ip: '127.0.0.1', port: receiver.udp.port });

    const [ps, pr] = await Promise.all([sender.ws.next('peer'), receiver.ws.next('peer')]);
    expect(ps).toMatchObject({
      stream: 'cam-1',
      role: 'sender',
      remote: { ip: '127.0.0.1', port: receiver.udp.port },
    });
    expect(pr).toMatchObject({
      stream: 'cam-1',
      role: 'receiver',
      remote: { ip: '127.0.0.1', port: sender.udp.port },
    });
    expect(ps.passphrase).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(pr.passphrase).toBe(ps.passphrase);
    expect(ps).toMatchObject({ pbkeylen: 32, latencyMs: 120 });
    expect(await state(s)).toBe('paired');

    const connect = await call(host.url, 'GET', `/api/session/${s.session}/connect`, {
      token: s.token,
    });
    const info = connect.json as {
      passphrase: string;
      streams: { sender: unknown; receiver: unknown }[];
    };
    expect(info.passphrase).toBe(ps.passphrase);
    expect(info.streams[0]).toMatchObject({
      sender: { ip: '127.0.0.1', port: sender.udp.port },
      receiver: { ip: '127.0.0.1', port: receiver.udp.port },
    });
    // Without the agent: rendezvous on one agreed port per stream, at the observed IPs.
    const cmds = info.streams[0] as unknown as {
      rendezvousPort: number;
      commands: Record<string, string>;
    };
    expect(cmds.rendezvousPort).toBe(20000);
    expect(cmds.commands['srt-live-transmit-rendezvous-send']).toContain(
      'srt://127.0.0.1:20000?mode=rendezvous',
    );
    expect(cmds.commands['srt-live-transmit-rendezvous-receive']).toContain(
      `passphrase=${info.passphrase}`,
    );

    // A health report with a live path makes the stream `connected`.
    sender.ws.send({
      type: 'health',
      stream: 'cam-1',
      role: 'sender',
      stats: { path: 'direct', rttMs: 3 },
    });
    sender.ws.send({ type: 'ping' });
    await sender.ws.next('pong');
    expect(await state(s)).toBe('connected');
    close(sender, receiver);
  });

  it('each session has its own passphrase', async () => {
    const a = await createSession(host.url);
    const b = await createSession(host.url);
    const pa = (
      await call(host.url, 'GET', `/api/session/${a.session}/connect`, { token: a.token })
    ).json as { passphrase: string };
    const pb = (
      await call(host.url, 'GET', `/api/session/${b.session}/connect`, { token: b.token })
    ).json as { passphrase: string };
    expect(pa.passphrase).not.toBe(pb.passphrase);
  });

  it("each stream has its own passphrase, and a stream's token never obtains another stream's", async () => {
    const s = await createSession(host.url, { streams: ['cam-1', 'cam-2'] });
    const connect = (
      await call(host.url, 'GET', `/api/session/${s.session}/connect`, { token: s.token })
    ).json as {
      passphrase: string;
      streams: { name: string; passphrase: string; commands: Record<string, string> }[];
    };
    const [one, two] = connect.streams;
    expect(one?.passphrase).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(two?.passphrase).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(one?.passphrase).not.toBe(two?.passphrase);
    // Each stream's strings carry its own key; the top-level one is the first stream's.
    expect(connect.passphrase).toBe(one?.passphrase);
    for (const line of Object.values(two?.commands ?? {}))
      expect(line).not.toContain(one?.passphrase ?? '');

    // Both streams paired: each side of cam-1 learns cam-1's key and nothing of cam-2's.
    const sides: Side[] = [];
    for (const stream of ['cam-1', 'cam-2'])
      for (const role of ['sender', 'receiver'] as const)
        sides.push(await join(s, await peerToken(host.url, s, stream), role, stream));
    for (const side of sides) await stun(side);
    const peers = await Promise.all(sides.map((side) => side.ws.next('peer')));
    expect(peers[0]?.passphrase).toBe(one?.passphrase);
    expect(peers[1]?.passphrase).toBe(one?.passphrase);
    expect(peers[2]?.passphrase).toBe(two?.passphrase);
    expect(peers[3]?.passphrase).toBe(two?.passphrase);
    for (const side of sides.slice(0, 2)) {
      await side.ws.settle();
      expect(JSON.stringify(side.ws.received)).not.toContain(two?.passphrase ?? '');
    }
    // And no route gives a peer token another stream's key (or any key: /connect is admin-only).
    const peerOne = await peerToken(host.url, s, 'cam-1');
    const refused = await call(host.url, 'GET', `/api/session/${s.session}/connect`, {
      token: peerOne,
    });
    expect(refused.status).toBe(403);
    expect(refused.text).not.toContain(two?.passphrase ?? '');
    close(...sides);
  });

  it('repeating STUN from the same socket does not pair again; a new socket re-pairs both sides', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const sender = await join(s, s.token, 'sender');
    const receiver = await join(s, s.token, 'receiver');
    await stun(sender);
    await stun(receiver);
    await sender.ws.next('peer');
    await receiver.ws.next('peer');
    await stun(sender);
    await stun(receiver);
    // The NAT mapping moved (a new media socket): the other side learns the new endpoint.
    const moved = await UdpPeer.open();
    await stun(sender, moved);
    const again = await receiver.ws.next('peer');
    expect(again.remote).toMatchObject({ port: moved.port });
    expect((await sender.ws.next('peer')).remote).toMatchObject({ port: receiver.udp.port });
    expect(sender.ws.all('peer')).toHaveLength(2);
    moved.close();
    close(sender, receiver);
  });

  it('`local` candidates travel to the other side for peers behind the same NAT', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const sender = await join(s, s.token, 'sender');
    const receiver = await join(s, s.token, 'receiver');
    sender.ws.send({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'sender',
      local: [{ ip: '192.168.1.20', port: 40000 }],
    });
    await stun(sender);
    await stun(receiver);
    const pr = await receiver.ws.next('peer');
    expect(pr.remote).toEqual({
      ip: '127.0.0.1',
      port: sender.udp.port,
      local: [{ ip: '192.168.1.20', port: 40000 }],
    });
    close(sender, receiver);
  });

  it("a claimed public endpoint is accepted only from the connection's own IP", async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const sender = await join(s, s.token, 'sender');
    sender.ws.send({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'sender',
      public: { ip: '198.51.100.7', port: 5000 },
    });
    expect(await sender.ws.next('error')).toMatchObject({ code: 'ERR_ENDPOINT_MISMATCH' });
    const receiver = await join(s, s.token, 'receiver');
    sender.ws.send({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'sender',
      public: { ip: '127.0.0.1', port: 5000 },
    });
    receiver.ws.send({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'receiver',
      public: { ip: '127.0.0.1', port: 5002 },
    });
    expect((await sender.ws.next('peer')).remote).toMatchObject({ ip: '127.0.0.1', port: 5002 });
    expect((await receiver.ws.next('peer')).remote).toMatchObject({ ip: '127.0.0.1', port: 5000 });
    close(sender, receiver);
  });

  it('`endpoint` and `health` before `register` are refused', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const c = await WsClient.connect(host.url, s.session, s.token);
    c.send({ type: 'endpoint', stream: 'cam-1', role: 'sender', local: [] });
    expect(await c.next('error')).toMatchObject({ code: 'ERR_NOT_REGISTERED' });
    c.send({ type: 'health', stream: 'cam-1', role: 'sender', stats: {} });
    expect(await c.next('error')).toMatchObject({ code: 'ERR_NOT_REGISTERED' });
    c.send({ type: 'register', stream: 'nope', role: 'sender' });
    expect(await c.next('error')).toMatchObject({ code: 'ERR_STREAM_UNKNOWN' });
    c.close();
  });

  it('when one side leaves the other gets `peer-left`; when it returns they pair again', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const sender = await join(s, s.token, 'sender');
    const receiver = await join(s, s.token, 'receiver');
    await stun(sender);
    await stun(receiver);
    await receiver.ws.next('peer');
    sender.ws.close();
    expect(await receiver.ws.next('peer-left')).toMatchObject({ stream: 'cam-1', role: 'sender' });
    expect(await state(s)).toBe('waiting');
    const back = await join(s, s.token, 'sender');
    await stun(back);
    const again = await receiver.ws.next('peer');
    expect(again.remote).toMatchObject({ port: back.udp.port });
    expect((await back.ws.next('peer')).remote).toMatchObject({ port: receiver.udp.port });
    sender.udp.close();
    close(back, receiver);
  });

  it('dashboards follow each stream live: `stream` pushes, a peer seeing only its own stream', async () => {
    const s = await createSession(host.url, { streams: ['cam-1', 'cam-2'] });
    const admin = await WsClient.connect(host.url, s.session, s.token);
    const other = await WsClient.connect(
      host.url,
      s.session,
      await peerToken(host.url, s, 'cam-2'),
    );
    const first = await admin.next('stream', (m) => m.name === 'cam-1');
    expect(first).toMatchObject({ state: 'idle', tally: 'none', sender: { present: false } });
    expect(await other.next('stream')).toMatchObject({ name: 'cam-2', state: 'idle' });

    const sender = await join(s, await peerToken(host.url, s, 'cam-1'), 'sender');
    expect(
      await admin.next('stream', (m) => m.name === 'cam-1' && m.state === 'waiting'),
    ).toMatchObject({ sender: { present: true }, receiver: { present: false } });
    const receiver = await join(s, s.token, 'receiver');
    await stun(sender);
    await stun(receiver);
    await admin.next('stream', (m) => m.name === 'cam-1' && m.state === 'paired');
    sender.ws.send({ type: 'health', stream: 'cam-1', role: 'sender', stats: { path: 'direct' } });
    expect(
      await admin.next('stream', (m) => m.name === 'cam-1' && m.state === 'connected'),
    ).toMatchObject({ sender: { path: 'direct' } });
    await call(host.url, 'PUT', `/api/session/${s.session}/tally`, {
      token: s.token,
      body: { program: ['cam-1'], preview: [] },
    });
    expect(
      await admin.next('stream', (m) => m.name === 'cam-1' && m.tally === 'program'),
    ).toMatchObject({ state: 'connected' });
    close(receiver);
    await admin.next(
      'stream',
      (m) => m.name === 'cam-1' && !(m.receiver as { present: boolean }).present,
    );

    // The cam-2 peer saw nothing of cam-1: its pushes (if any) name cam-2 only.
    other.send({ type: 'ping' });
    await other.next('pong');
    expect(other.all('stream').every((m) => m.name === 'cam-2')).toBe(true);
    close(sender);
    admin.close();
    other.close();
  });

  it('a newer registration for the same slot replaces the older connection', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const first = await join(s, s.token, 'sender');
    const second = await join(s, s.token, 'sender');
    expect(await first.ws.next('error')).toMatchObject({ code: 'ERR_REPLACED' });
    expect(await first.ws.closed).toBe(4409);
    await stun(second);
    const receiver = await join(s, s.token, 'receiver');
    await stun(receiver);
    expect((await receiver.ws.next('peer')).remote).toMatchObject({ port: second.udp.port });
    close(first, second, receiver);
  });

  it('a live slot is not taken silently: ERR_SLOT_TAKEN, unless the newcomer asks to take over', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const holder = await join(s, await peerToken(host.url, s, 'cam-1'), 'sender');
    const ws = await WsClient.connect(host.url, s.session, await peerToken(host.url, s, 'cam-1'));
    ws.send({ type: 'register', stream: 'cam-1', role: 'sender' });
    const refused = await ws.next('error');
    expect(refused.code).toBe('ERR_SLOT_TAKEN');
    expect(refused.message).toContain('--takeover');
    // The refusal names its stream (a socket may carry several); an error about no stream does not.
    expect(refused.stream).toBe('cam-1');
    ws.send({ type: 'no-such-type' });
    expect((await ws.next('error')).stream).toBeUndefined();
    // The holder is untouched and keeps its slot.
    holder.ws.send({ type: 'ping' });
    await holder.ws.next('pong');
    expect(holder.ws.received.some((m) => m.type === 'error')).toBe(false);
    ws.send({ type: 'register', stream: 'cam-1', role: 'sender', takeover: true });
    expect(await ws.next('registered')).toMatchObject({ stream: 'cam-1', role: 'sender' });
    const told = await holder.ws.next('error');
    expect(told.code).toBe('ERR_REPLACED');
    expect(told.message).toContain('take over');
    expect(await holder.ws.closed).toBe(4409);
    ws.close();
    close(holder);
  });

  it('an admin takes one slot of a socket holding several: that one alone, the socket stays', async () => {
    const s = await createSession(host.url, { streams: ['cam-1', 'cam-2'] });
    const mcr = await WsClient.connect(host.url, s.session, await peerToken(host.url, s, null));
    for (const stream of ['cam-1', 'cam-2']) {
      mcr.send({ type: 'register', stream, role: 'receiver' });
      await mcr.next('registered', (m) => m.stream === stream);
    }
    const producer = await WsClient.connect(host.url, s.session, s.token);
    producer.send({ type: 'register', stream: 'cam-1', role: 'receiver' });
    await producer.next('registered');
    expect(await mcr.next('error')).toMatchObject({
      code: 'ERR_REPLACED',
      stream: 'cam-1',
      role: 'receiver',
    });
    // Still open, still cam-2's receiver; cam-1 is no longer its own, until it is free again.
    mcr.send({ type: 'health', stream: 'cam-2', role: 'receiver', stats: {} });
    mcr.send({ type: 'health', stream: 'cam-1', role: 'receiver', stats: {} });
    expect(await mcr.next('error', (m) => m.code !== 'ERR_REPLACED')).toMatchObject({
      code: 'ERR_NOT_REGISTERED',
      stream: 'cam-1',
    });
    // Once the producer has gone, asking again (without taking over) gets it back.
    producer.close();
    const cam1 = (): number => mcr.all('registered').filter((m) => m.stream === 'cam-1').length;
    for (let i = 0; i < 50 && cam1() < 2; i++) {
      mcr.send({ type: 'register', stream: 'cam-1', role: 'receiver' });
      await mcr.settle();
      if (cam1() < 2) await new Promise((r) => setTimeout(r, 100));
    }
    expect(cam1()).toBe(2);
    mcr.close();
  });

  it('messages sent right after the socket opens are handled in order', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const c = await WsClient.connect(host.url, s.session, s.token);
    c.send({ type: 'register', stream: 'cam-1', role: 'sender' });
    c.send({ type: 'health', stream: 'cam-1', role: 'sender', stats: { rttMs: 1 } });
    c.send({ type: 'ping' });
    await c.next('pong');
    // `stream` state pushes interleave; the replies keep the order of the requests.
    const types = c.received.map((m: Msg) => m.type).filter((t) => t !== 'stream');
    // An admin socket also receives the health it reported (admins get every stream's health).
    expect(types).toEqual(['welcome', 'registered', 'health', 'pong']);
    c.close();
  });
});

describe.skipIf(!CAN.stun)('the STUN port', () => {
  it('answers a Binding request without USERNAME, and one with an unknown USERNAME', async () => {
    const u = await UdpPeer.open();
    expect(await u.stun('127.0.0.1', host.stunPort!)).toEqual({ ip: '127.0.0.1', port: u.port });
    expect(await u.stun('127.0.0.1', host.stunPort!, 'not-a-registration')).toEqual({
      ip: '127.0.0.1',
      port: u.port,
    });
    u.close();
  });

  it('drops junk silently and keeps answering', async () => {
    const u = await UdpPeer.open();
    let answers = 0;
    u.socket.on('message', () => answers++);
    const junk = [
      new Uint8Array([1, 2, 3]),
      new Uint8Array(20),
      new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'),
      new Uint8Array(2000).fill(0x41),
    ];
    for (const j of junk) u.sendRaw(j, '127.0.0.1', host.stunPort!);
    // A well-formed request after the junk is answered; nothing before it was.
    await u.stun('127.0.0.1', host.stunPort!);
    expect(answers).toBe(1);
    u.close();
  });
});
