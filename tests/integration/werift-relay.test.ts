/**
 * werift (a third-party WebRTC stack, in Node) relaying through Punch's own TURN relay on
 * loopback, with no coturn anywhere: two werift peers made by the SDK's `createPeer()` with
 * `forceRelay` (`iceTransportPolicy: 'relay'`, which werift honours: it then gathers only relay
 * candidates and checks only pairs over TURN, its `forceTurn`) and only the TURN URL Punch's
 * `welcome` lists; a data-channel message goes each way; both selected pairs are relay on
 * Punch's relayed addresses, and Punch's `punch_turn_*` counters moved.
 *
 * One case per TURN transport Punch offers: UDP now; TCP once the relay listens on TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPeer, mintPeerToken, type Peer, type Session } from '@punch/sdk';
import { fromWerift } from '@punch/sdk/werift';
import { RTCPeerConnection as WeriftPeerConnection } from 'werift';
import WebSocket from 'ws';
import { call } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import {
  PUNCH_TURN_TRANSPORTS,
  counterDelta,
  iceShape,
  nextMessage,
  onlyPunchTurn,
  opened,
  sessionPair,
  turnCounters,
  within,
} from './relay-evidence.js';

for (const t of PUNCH_TURN_TRANSPORTS) {
  if (t.missing !== undefined)
    console.warn(`\n!!! SKIPPING werift relay over TURN/${t.transport}: ${t.missing}\n`);
}

let host: Host;
let key: { kid: string; privateJwk: Record<string, unknown> };

beforeAll(async () => {
  // Punch on loopback with its own relay (no --turn-url, so welcome lists Punch's TURN). No
  // --relay-allow-private: both ends relay, so every peer address the relay sees is one of its
  // own relayed addresses, which the default policy always allows (relay to relay); the test
  // thereby also shows the shipped default suffices for relay-only peers.
  host = await startHost({}, 'node');
  const account = await host.createAccount('werift-relay');
  const project = await call(host.url, 'POST', '/api/projects', {
    token: account,
    body: { name: 'werift-relay' },
  });
  if (project.status !== 201) throw new Error(`project: ${project.status} ${project.text}`);
  const id = (project.json as { id: string }).id;
  const k = await call(host.url, 'POST', `/api/projects/${id}/keys`, { token: account, body: {} });
  if (k.status !== 201) throw new Error(`key: ${k.status} ${k.text}`);
  key = k.json as typeof key;
});

afterAll(async () => {
  await host?.stop();
});

describe('werift relay-only through Punch’s own TURN (loopback, no coturn)', () => {
  for (const { transport, missing } of PUNCH_TURN_TRANSPORTS) {
    it.skipIf(missing !== undefined)(
      `TURN/${transport}: two werift peers exchange data-channel messages over relay candidates`,
      async () => {
        const token = (peer: string): Promise<string> =>
          mintPeerToken({
            privateKey: key.privateJwk,
            group: 'demo',
            peer,
            allow: [{ group: 'demo', peer: '*' }],
            ttl: 600,
          });
        const fromPunch: RTCIceServer[][] = [];
        const werift = (tok: string): Peer =>
          createPeer({
            url: host.url,
            token: tok,
            WebSocket,
            RTCPeerConnection: fromWerift(WeriftPeerConnection),
            forceRelay: true,
            iceServers: onlyPunchTurn(transport, (s) => fromPunch.push(s)),
          });
        const before = await turnCounters(host.url);
        const alice = werift(await token(`alice-${transport}`));
        const bob = werift(await token(`bob-${transport}`));
        try {
          const incoming = new Promise<Session>((resolve) => {
            bob.on('session', resolve);
          });
          const [aliceInfo, bobInfo] = await within(
            Promise.all([alice.ready, bob.ready]),
            10_000,
            'welcome',
          );
          // The ICE servers came from Punch's welcome: its own TURN on its STUN port, with
          // TURN REST credentials, and only that URL is used.
          const url = `turn:127.0.0.1:${host.stunPort}?transport=${transport}`;
          for (const info of [aliceInfo, bobInfo]) {
            expect(iceShape(info.iceServers)).toEqual([
              { urls: [url], username: 'string', credential: 'string' },
            ]);
          }
          expect(fromPunch.flat().flatMap((s) => s.urls)).toContain(url);

          const session = await within(
            alice.connect('demo', `bob-${transport}`, { dataChannels: ['chat'] }),
            20_000,
            'answer',
          );
          const answered = await within(incoming, 10_000, 'incoming session');
          const theirs = await within(
            new Promise<RTCDataChannel>((resolve) => {
              const now = answered.channels.get('chat');
              if (now !== undefined) resolve(now);
              else answered.on('datachannel', resolve);
            }),
            15_000,
            'remote data channel',
          );
          const ours = await opened(session.channels.get('chat')!);
          await opened(theirs);

          const toBob = nextMessage(theirs);
          ours.send(`to bob over TURN/${transport}`);
          expect(await toBob).toBe(`to bob over TURN/${transport}`);
          const toAlice = nextMessage(ours);
          theirs.send(`to alice over TURN/${transport}`);
          expect(await toAlice).toBe(`to alice over TURN/${transport}`);

          for (const s of [session, answered]) {
            const pair = await sessionPair(s);
            expect(pair).toMatchObject({
              state: 'succeeded',
              nominated: true,
              // Both addresses are relayed addresses on Punch (loopback here).
              local: { candidateType: 'relay', address: '127.0.0.1' },
              remote: { address: '127.0.0.1' },
              // Relay-only: werift gathered nothing but relay candidates.
              localTypes: ['relay'],
            });
            // The remote relay candidate may be learnt from a check before it is signalled
            // (peer-reflexive, same address); either way it is the other side's relayed one.
            expect(['relay', 'prflx']).toContain(pair?.remote.candidateType);
          }

          const moved = counterDelta(before, await turnCounters(host.url));
          expect(moved.allocations).toBeGreaterThanOrEqual(2);
          expect(moved.bytesToPeer).toBeGreaterThan(0);
          expect(moved.bytesToClient).toBeGreaterThan(0);
        } finally {
          alice.close();
          bob.close();
        }
      },
      60_000,
    );
  }
});
