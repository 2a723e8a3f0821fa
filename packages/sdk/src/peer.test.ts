/**
 * Peers end to end over core's real SignalRoom (in memory) and werift's real RTCPeerConnection
 * on loopback: connect, data channels both ways, refusals, glare, and the reload rules.
 */
import { RTCPeerConnection } from 'werift';
import { afterEach, describe, expect, it } from 'vitest';
import { PunchSignalError } from './errors.js';
import type { PeerOptions } from './peer-options.js';
import { createPeer, type Peer } from './peer.js';
import type { Session } from './session.js';
import { FakePunch } from './test/fake-punch.js';
import { fromWerift } from './werift.js';

const PC = fromWerift(RTCPeerConnection, { iceUseIpv6: false });
const FAST = {
  restartFirstMs: 300,
  disconnectedGraceMs: 300,
  calleeFailedMs: 3000,
};

let peers: Peer[] = [];

afterEach(() => {
  for (const p of peers) p.close();
  peers = [];
});

function peerOf(punch: FakePunch, token: string, extra: Partial<PeerOptions> = {}): Peer {
  const p = createPeer({
    url: 'http://punch.test',
    token,
    WebSocket: punch.WebSocket,
    RTCPeerConnection: PC,
    recovery: FAST,
    ...extra,
  });
  peers.push(p);
  return p;
}

function next<T>(subscribe: (fn: (v: T) => void) => () => void, timeoutMs = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('timed out waiting for an event'));
    }, timeoutMs);
    const off = subscribe((v) => {
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

function opened(channel: RTCDataChannel): Promise<RTCDataChannel> {
  if (channel.readyState === 'open') return Promise.resolve(channel);
  return new Promise((resolve) => {
    channel.addEventListener('open', () => {
      resolve(channel);
    });
  });
}

function message(channel: RTCDataChannel): Promise<unknown> {
  return new Promise((resolve) => {
    channel.addEventListener('message', (e) => {
      resolve(e.data);
    });
  });
}

async function connected(session: Session): Promise<void> {
  if (session.state === 'connected') return;
  await next<RTCPeerConnectionState>((fn) =>
    session.on('state', (s) => {
      if (s === 'connected') fn(s);
    }),
  );
}

// ICE and DTLS in JavaScript: on a busy machine one call can take longer than vitest's 5 s default.
describe('Peer over werift', { timeout: 30_000 }, () => {
  it('connects, opens a data channel both ways and reports a host pair', async () => {
    const punch = new FakePunch();
    const alice = peerOf(punch, await punch.token('g', 'alice'));
    const bob = peerOf(punch, await punch.token('g', 'bob'));
    const incoming = next<Session>((fn) => bob.on('session', fn));
    await Promise.all([alice.ready, bob.ready]);

    const a = await alice.connect('g', 'bob', { dataChannels: ['chat'] });
    const b = await incoming;
    expect(b.remote).toEqual({ group: 'g', peer: 'alice' });
    expect(a.role).toBe('caller');
    expect(b.role).toBe('callee');
    expect(b.callId).toBe(a.callId);

    const bChat = await next<RTCDataChannel>((fn) => b.on('datachannel', fn));
    const aChat = a.channels.get('chat');
    expect(aChat?.label).toBe('chat');
    await opened(aChat!);
    await opened(bChat);
    const toBob = message(bChat);
    aChat!.send('hello bob');
    expect(await toBob).toBe('hello bob');
    const toAlice = message(aChat!);
    bChat.send('hello alice');
    expect(await toAlice).toBe('hello alice');

    await connected(a);
    const pair = await a.selectedCandidatePair();
    expect(pair?.local.candidateType).toBe('host');
    expect(pair?.remote.candidateType).toBe('host');
  });

  it('rejects connect with ERR_PEER_UNAVAILABLE (offline) and ERR_POLICY_DENIED (own policy)', async () => {
    const punch = new FakePunch();
    const alice = peerOf(punch, await punch.token('g', 'alice', [{ group: 'g', peer: 'b*' }]));
    await alice.ready;
    const offline = await alice.connect('g', 'bob').catch((e: unknown) => e);
    expect(offline).toBeInstanceOf(PunchSignalError);
    expect((offline as PunchSignalError).code).toBe('ERR_PEER_UNAVAILABLE');
    const denied = await alice.connect('g', 'carol').catch((e: unknown) => e);
    expect((denied as PunchSignalError).code).toBe('ERR_POLICY_DENIED');
    expect(alice.sessions).toEqual([]);
  });

  it('the remote closing the session (bye) closes ours', async () => {
    const punch = new FakePunch();
    const alice = peerOf(punch, await punch.token('g', 'alice'));
    const bob = peerOf(punch, await punch.token('g', 'bob'));
    const incoming = next<Session>((fn) => bob.on('session', fn));
    await Promise.all([alice.ready, bob.ready]);
    const a = await alice.connect('g', 'bob');
    const b = await incoming;
    const closed = next<{ reason: string }>((fn) => b.on('close', fn));
    a.close();
    expect((await closed).reason).toBe('remote');
    expect(bob.sessions).toEqual([]);
  });

  it('both calling at once ends with one call, answered on both sides', async () => {
    const punch = new FakePunch();
    const alice = peerOf(punch, await punch.token('g', 'alice'));
    const bob = peerOf(punch, await punch.token('g', 'bob'));
    await Promise.all([alice.ready, bob.ready]);
    const [a, b] = await Promise.all([
      alice.connect('g', 'bob', { dataChannels: ['x'] }),
      bob.connect('g', 'alice', { dataChannels: ['y'] }),
    ]);
    expect(a.callId).toBe(b.callId);
    // bob sorts after alice: bob is polite and adopted alice's call.
    expect(a.role).toBe('caller');
    expect(b.role).toBe('callee');
    await Promise.all([connected(a), connected(b)]);
    expect(alice.sessions).toHaveLength(1);
    expect(bob.sessions).toHaveLength(1);
  });

  it('a reloaded callee gets a fresh call from the caller (reset → new initial offer)', async () => {
    const punch = new FakePunch();
    const alice = peerOf(punch, await punch.token('g', 'alice'));
    const bob = peerOf(punch, await punch.token('g', 'bob'));
    const incoming = next<Session>((fn) => bob.on('session', fn));
    await Promise.all([alice.ready, bob.ready]);
    const a = await alice.connect('g', 'bob', { dataChannels: ['chat'] });
    await incoming;
    await connected(a);
    const firstCall = a.callId;

    // bob's page reloads: a new instance with the same id replaces the old socket; the old
    // page's connection dies without a word.
    const bob1Closed = next<{ code: number }>((fn) => bob.on('close', fn));
    const bob2 = peerOf(punch, await punch.token('g', 'bob'));
    const again = next<Session>((fn) => bob2.on('session', fn));
    expect((await bob1Closed).code).toBe(4409);
    await bob2.ready;
    const renewed = next<{ reason: string }>((fn) => a.on('call', fn));
    // What alice's recovery does once ICE reports the silence (werift takes ~30 s to notice;
    // the timing rules are recovery.test.ts's): restart ICE on the old call. bob's new page
    // does not know that call and answers `reset`, so alice starts a fresh one.
    a.pc.restartIce();

    const b2 = await again;
    expect((await renewed).reason).toBe('reset');
    expect(a.callId).not.toBe(firstCall);
    expect(b2.callId).toBe(a.callId);
    const chat = await next<RTCDataChannel>((fn) => b2.on('datachannel', fn));
    await opened(chat);
    const aChat = a.channels.get('chat')!;
    await opened(aChat);
    const got = message(chat);
    aChat.send('still here');
    expect(await got).toBe('still here');
  });

  it('a reloaded caller that calls again replaces the callee session', async () => {
    const punch = new FakePunch();
    const alice = peerOf(punch, await punch.token('g', 'alice'));
    const bob = peerOf(punch, await punch.token('g', 'bob'));
    const sessions: Session[] = [];
    bob.on('session', (s) => sessions.push(s));
    await Promise.all([alice.ready, bob.ready]);
    await alice.connect('g', 'bob');
    const alice2 = peerOf(punch, await punch.token('g', 'alice'));
    await alice2.ready;
    const firstClosed = next<{ reason: string }>((fn) => sessions[0]!.on('close', fn));
    const a2 = await alice2.connect('g', 'bob');
    expect((await firstClosed).reason).toBe('replaced');
    expect(sessions).toHaveLength(2);
    expect(sessions[1]!.callId).toBe(a2.callId);
    expect(bob.sessions).toEqual([sessions[1]]);
  });
});
