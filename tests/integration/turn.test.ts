/**
 * The TURN relay on the STUN port (RFC 8656, UDP), driven by coturn's own test client,
 * turnutils_uclient, as a real third-party client; plus a scripted client (turn-client.ts) for
 * channels, refusals and hostile input.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  STUN_METHOD,
  encodeBindingRequest,
  encodeChannelData,
  encodeMessage,
  findAttribute,
  parseBindingResponse,
} from '@punch/core';
import { startHost, type Host } from '../conformance/host.js';
import { TurnTestClient, codeOf } from './turn-test-client.js';

const SECRET = 'turn-integration-secret-0123456789';
const HAVE_UCLIENT = spawnSync('turnutils_uclient', [], { timeout: 5000 }).error === undefined;
if (!HAVE_UCLIENT) {
  console.warn(
    '\n*** turnutils_uclient (coturn) is NOT installed: the TURN interop tests are SKIPPED. ' +
      'Install coturn (apt-get install coturn) to run them. ***\n',
  );
}

let host: Host;
let stunPort: number;
let echo: Socket[] = [];
let echoPort: number;
let user = 0;

/** TURN REST credentials, valid for an hour, for a fresh id (so per-username caps never meet). */
function credentials(secret = SECRET): { username: string; password: string } {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:t${++user}`;
  return { username, password: createHmac('sha1', secret).update(username).digest('base64') };
}

/** Runs turnutils_uclient against the relay; resolves to its exit code and everything printed. */
function uclient(args: string[]): Promise<{ code: number; output: string }> {
  const { username, password } = credentials();
  return uclientAs(username, password, args);
}

function uclientAs(
  username: string,
  password: string,
  args: string[],
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'turnutils_uclient',
      ['-u', username, '-w', password, '-p', String(stunPort), ...args, '127.0.0.1'],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** A UDP echo bound to `port` on 127.0.0.1 (0: any free port); rejects if it is taken. */
async function echoSocket(port: number): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    socket.send(msg, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, '127.0.0.1', () => {
      resolve();
    });
  });
  return socket;
}

beforeAll(async () => {
  host = await startHost({ extraArgs: ['--relay-allow-private', '--turn-secret', SECRET] });
  stunPort = host.stunPort ?? 0;
  // The peer: a UDP echo on a free port and the next one (uclient sends RTCP to port + 1).
  for (let attempt = 0; attempt < 20 && echo.length < 2; attempt++) {
    echo.forEach((e) => e.close());
    echo = [await echoSocket(0)];
    const next = await echoSocket((echo[0]?.address().port ?? 0) + 1).catch(() => undefined);
    if (next !== undefined) echo.push(next);
  }
  if (echo.length < 2) throw new Error('no two consecutive free UDP ports for the echo peer');
  echoPort = echo[0]?.address().port ?? 0;
});
afterAll(async () => {
  echo.forEach((e) => e.close());
  await host.stop();
});

describe.skipIf(!HAVE_UCLIENT)('turnutils_uclient (coturn) against the relay', () => {
  it('relays Send and Data indications to a peer and back, none lost', async () => {
    const { code, output } = await uclient([
      '-c',
      '-s',
      '-e',
      '127.0.0.1',
      '-r',
      String(echoPort),
      '-n',
      '20',
      '-l',
      '200',
    ]);
    expect(output).toContain('tot_send_msgs=20, tot_recv_msgs=20');
    expect(output).toContain('Total lost packets 0 (0.000000%)');
    expect(code).toBe(0);
  });

  it('allocates RTP and RTCP pairs (EVEN-PORT and RESERVATION-TOKEN), none lost', async () => {
    // Without -c, uclient allocates an even port with the next one reserved, then claims it.
    const { code, output } = await uclient([
      '-s',
      '-e',
      '127.0.0.1',
      '-r',
      String(echoPort),
      '-n',
      '20',
      '-l',
      '200',
    ]);
    expect(output).toContain('tot_send_msgs=40, tot_recv_msgs=40');
    expect(output).toContain('Total lost packets 0 (0.000000%)');
    expect(code).toBe(0);
  });

  it('relays client to client, relayed address to relayed address, none lost', async () => {
    const { code, output } = await uclient(['-c', '-y', '-s', '-n', '20', '-l', '200']);
    expect(output).toContain('tot_send_msgs=40, tot_recv_msgs=40');
    expect(output).toContain('Total lost packets 0 (0.000000%)');
    expect(code).toBe(0);
  });

  it('refuses a wrong password: the client cannot allocate', async () => {
    const { username } = credentials();
    const { code, output } = await uclientAs(username, 'd3JvbmcgcGFzc3dvcmQ=', [
      '-c',
      '-s',
      '-e',
      '127.0.0.1',
      '-r',
      String(echoPort),
      '-n',
      '5',
    ]);
    expect(output).toContain('Cannot complete Allocation');
    expect(output).not.toContain('Total lost packets');
    expect(code).not.toBe(0);
  });

  it("relays ChannelData on the channels coturn's client binds (0x4000-0x7FFF), none lost", async () => {
    const { code, output } = await uclient([
      '-c',
      '-e',
      '127.0.0.1',
      '-r',
      String(echoPort),
      '-n',
      '20',
      '-l',
      '200',
    ]);
    expect(output).not.toContain('channel bind: error');
    expect(output).toContain('tot_send_msgs=20, tot_recv_msgs=20');
    expect(output).toContain('Total lost packets 0 (0.000000%)');
    expect(code).toBe(0);
  });
});

describe('the relay with a scripted client', () => {
  it('answers an unauthenticated Allocate with 401, REALM and NONCE', async () => {
    const client = await TurnTestClient.open({ host: '127.0.0.1', port: stunPort });
    try {
      const answer = await client.request(
        STUN_METHOD.allocate,
        [{ type: 'REQUESTED-TRANSPORT', protocol: 17 }],
        false,
      );
      expect(codeOf(answer)).toBe(401);
      expect(findAttribute(answer.attributes, 'REALM')?.value).toBe('punch');
      expect(findAttribute(answer.attributes, 'NONCE')?.value).toMatch(/^\d+\./);
    } finally {
      client.close();
    }
  });

  it('binds a channel and relays ChannelData both ways', async () => {
    const client = await TurnTestClient.open({ host: '127.0.0.1', port: stunPort });
    try {
      const { username, password } = credentials();
      const allocated = await client.allocate(username, password);
      expect(codeOf(allocated)).toBe(0);
      expect(findAttribute(allocated.attributes, 'XOR-RELAYED-ADDRESS')?.address.ip).toBe(
        '127.0.0.1',
      );
      const peer = { ip: '127.0.0.1', port: echoPort, family: 4 as const };
      const bound = await client.request(STUN_METHOD.channelBind, [
        { type: 'CHANNEL-NUMBER', channel: 0x4000 },
        { type: 'XOR-PEER-ADDRESS', address: peer },
      ]);
      expect(codeOf(bound)).toBe(0);
      const payloads = Array.from({ length: 10 }, (_, i) => new Uint8Array([i, 1, 2, 3, 4]));
      for (const p of payloads) client.raw(encodeChannelData(0x4000, p));
      const back = await client.received(10);
      expect(back.map((b) => [...b]).sort()).toEqual(payloads.map((p) => [...p]).sort());
      // Refresh with LIFETIME 0 deletes: a second one finds no allocation (437).
      const gone = await client.request(STUN_METHOD.refresh, [{ type: 'LIFETIME', seconds: 0 }]);
      expect(codeOf(gone)).toBe(0);
      const again = await client.request(STUN_METHOD.refresh, [{ type: 'LIFETIME', seconds: 0 }]);
      expect(codeOf(again)).toBe(437);
    } finally {
      client.close();
    }
  });

  it('refuses channel collisions (400) and a forged MESSAGE-INTEGRITY (401)', async () => {
    const client = await TurnTestClient.open({ host: '127.0.0.1', port: stunPort });
    try {
      const { username, password } = credentials();
      expect(codeOf(await client.allocate(username, password))).toBe(0);
      const peer = (port: number) => ({
        type: 'XOR-PEER-ADDRESS' as const,
        address: { ip: '127.0.0.1', port, family: 4 as const },
      });
      const bind = async (channel: number, port: number): Promise<number> =>
        codeOf(
          await client.request(STUN_METHOD.channelBind, [
            { type: 'CHANNEL-NUMBER', channel },
            peer(port),
          ]),
        );
      expect(await bind(0x4001, echoPort)).toBe(0);
      expect(await bind(0x4001, echoPort)).toBe(0); // the same binding again: a refresh
      expect(await bind(0x4001, echoPort + 1)).toBe(400); // that number is another peer's
      expect(await bind(0x4002, echoPort)).toBe(400); // that peer has another number
      // (Numbers outside 0x4000-0x7FFF: core's encoder refuses to write them, and the server's
      // answer to raw ones is in packages/core/src/turn/hostile.test.ts and the flood below.)
      const forged = await client.request(
        STUN_METHOD.createPermission,
        [peer(echoPort + 2)],
        true,
        new Uint8Array(16).fill(7),
      );
      expect(codeOf(forged)).toBe(401);
      // The allocation is untouched: the real key still works.
      expect(codeOf(await client.request(STUN_METHOD.createPermission, [peer(echoPort + 2)]))).toBe(
        0,
      );
    } finally {
      client.close();
    }
  });

  it('refuses a UDP relay of another transport (442) and a wrong secret (401)', async () => {
    const client = await TurnTestClient.open({ host: '127.0.0.1', port: stunPort });
    try {
      const bad = credentials('not-the-secret');
      expect(codeOf(await client.allocate(bad.username, bad.password))).toBe(401);
      const { username, password } = credentials();
      await client.allocate(username, password);
      const tcp = await client.request(STUN_METHOD.allocate, [
        { type: 'REQUESTED-TRANSPORT', protocol: 6 },
      ]);
      // The allocation exists already for this 5-tuple: a new Allocate is a mismatch.
      expect(codeOf(tcp)).toBe(437);
    } finally {
      client.close();
    }
    const fresh = await TurnTestClient.open({ host: '127.0.0.1', port: stunPort });
    try {
      const { username, password } = credentials();
      const first = await fresh.allocate(username, password); // authenticates (UDP, succeeds)
      expect(codeOf(first)).toBe(0);
      await fresh.request(STUN_METHOD.refresh, [{ type: 'LIFETIME', seconds: 0 }]);
      const tcp = await fresh.request(STUN_METHOD.allocate, [
        { type: 'REQUESTED-TRANSPORT', protocol: 6 },
      ]);
      expect(codeOf(tcp)).toBe(442);
    } finally {
      fresh.close();
    }
  });

  it('refuses an expired username (401), a nonce it did not issue (438), a 11th allocation (486)', async () => {
    const server = { host: '127.0.0.1', port: stunPort };
    const expired = await TurnTestClient.open(server);
    try {
      const username = `${Math.floor(Date.now() / 1000) - 10}:old`;
      const password = createHmac('sha1', SECRET).update(username).digest('base64');
      expect(codeOf(await expired.allocate(username, password))).toBe(401);
      const { username: u, password: p } = credentials();
      expect(codeOf(await expired.allocate(u, p, { nonce: '1.AAAAAAAAAAAAAAAAAAAAAA' }))).toBe(438);
    } finally {
      expired.close();
    }
    const { username, password } = credentials();
    const clients = await Promise.all(
      Array.from({ length: 11 }, () => TurnTestClient.open(server)),
    );
    try {
      const codes: number[] = [];
      for (const c of clients) codes.push(codeOf(await c.allocate(username, password)));
      expect(codes).toEqual([...Array<number>(10).fill(0), 486]);
    } finally {
      clients.forEach((c) => {
        c.close();
      });
    }
  });

  it('counts reserved ports (EVEN-PORT R) against the per-username cap: no holding the pool', async () => {
    const client = await TurnTestClient.open({ host: '127.0.0.1', port: stunPort });
    try {
      const { username, password } = credentials();
      expect(codeOf(await client.allocate(username, password))).toBe(0);
      const release = async (): Promise<number> =>
        codeOf(await client.request(STUN_METHOD.refresh, [{ type: 'LIFETIME', seconds: 0 }]));
      expect(await release()).toBe(0);
      const codes: number[] = [];
      for (let i = 0; i < 11; i++) {
        const answer = await client.request(STUN_METHOD.allocate, [
          { type: 'REQUESTED-TRANSPORT', protocol: 17 },
          { type: 'EVEN-PORT', reserveNext: true },
        ]);
        codes.push(codeOf(answer));
        // Allocate and let go at once: only the reserved port stays held, for 30 s.
        if (codeOf(answer) === 0) expect(await release()).toBe(0);
      }
      expect(codes).toEqual([...Array<number>(10).fill(0), 486]);
    } finally {
      client.close();
    }
  });

  it('survives hostile datagrams, then still allocates and answers Binding', async () => {
    const client = await TurnTestClient.open({ host: '127.0.0.1', port: stunPort });
    try {
      const { username, password } = credentials();
      const allocate = encodeMessage({
        method: STUN_METHOD.allocate,
        class: 'request',
        transactionId: new Uint8Array(12),
        attributes: [
          { type: 'REQUESTED-TRANSPORT', protocol: 17 },
          { type: 'USERNAME', value: username },
        ],
      });
      // Random bytes, every truncation of a real Allocate, a header claiming more than it has,
      // ChannelData on no allocation, a bounded flood: 2,000 datagrams in all.
      for (let i = 0; i < 1000; i++) {
        client.raw(crypto.getRandomValues(new Uint8Array(1 + (i % 200))));
      }
      for (let n = 0; n < allocate.length; n++) client.raw(allocate.subarray(0, n));
      for (let i = 0; i < 1000 - allocate.length; i++) {
        const junk = allocate.slice();
        const at = 20 + (i % (allocate.length - 20));
        junk[at] = (junk[at] ?? 0) ^ 0xff;
        client.raw(i % 2 === 0 ? junk : encodeChannelData(0x4000 + (i % 0x1000), junk));
      }
      const ok = await client.allocate(username, password);
      expect(codeOf(ok)).toBe(0);
    } finally {
      client.close();
    }
    // The STUN path on the same port still answers Binding.
    const stun = createSocket('udp4');
    try {
      const tid = crypto.getRandomValues(new Uint8Array(12));
      const answer = new Promise<Buffer>((resolve) => stun.once('message', resolve));
      stun.send(encodeBindingRequest(tid), stunPort, '127.0.0.1');
      const mapped = parseBindingResponse(new Uint8Array(await answer));
      expect(mapped?.mapped.ip).toBe('127.0.0.1');
    } finally {
      stun.close();
    }
    const metrics = await (await fetch(`${host.url}/metrics`)).text();
    expect(metrics).toMatch(/punch_turn_allocations_total \d+/);
    expect(metrics).toMatch(/punch_turn_refused_total\{code="401"\} \d+/);
    expect(metrics).toMatch(/punch_turn_relayed_packets_total\{direction="to_peer"\} [1-9]/);
  });
});

describe('the relay with its default policy and a small bandwidth cap', () => {
  let strict: Host;
  beforeAll(async () => {
    strict = await startHost({ extraArgs: ['--turn-secret', SECRET, '--relay-max-bps', '8000'] });
  });
  afterAll(async () => {
    await strict.stop();
  });

  it('refuses loopback peers (403) but allows another allocation on the same relay', async () => {
    const server = { host: '127.0.0.1', port: strict.stunPort ?? 0 };
    const a = await TurnTestClient.open(server);
    const b = await TurnTestClient.open(server);
    try {
      const ca = credentials();
      const cb = credentials();
      expect(codeOf(await a.allocate(ca.username, ca.password))).toBe(0);
      const bAllocated = await b.allocate(cb.username, cb.password);
      const bRelay = findAttribute(bAllocated.attributes, 'XOR-RELAYED-ADDRESS')?.address;
      expect(bRelay).toBeDefined();
      const loopback = await a.request(STUN_METHOD.createPermission, [
        { type: 'XOR-PEER-ADDRESS', address: { ip: '127.0.0.1', port: echoPort, family: 4 } },
      ]);
      expect(codeOf(loopback)).toBe(403);
      const privateLan = await a.request(STUN_METHOD.channelBind, [
        { type: 'CHANNEL-NUMBER', channel: 0x4001 },
        { type: 'XOR-PEER-ADDRESS', address: { ip: '192.168.1.10', port: 5000, family: 4 } },
      ]);
      expect(codeOf(privateLan)).toBe(403);
      if (bRelay === undefined) return;
      const relayToRelay = await a.request(STUN_METHOD.createPermission, [
        { type: 'XOR-PEER-ADDRESS', address: bRelay },
      ]);
      expect(codeOf(relayToRelay)).toBe(0);
    } finally {
      a.close();
      b.close();
    }
  });

  it('a permission for another allocation opens that relayed port only, not the rest of its IP', async () => {
    const server = { host: '127.0.0.1', port: strict.stunPort ?? 0 };
    const a = await TurnTestClient.open(server);
    const b = await TurnTestClient.open(server);
    // A service on the relay's own (loopback) address that must stay out of reach.
    const victim = createSocket('udp4');
    await new Promise<void>((resolve) => victim.bind(0, '127.0.0.1', resolve));
    const reached: string[] = [];
    victim.on('message', (m) => reached.push(m.toString('utf8')));
    try {
      const ca = credentials();
      const cb = credentials();
      expect(codeOf(await a.allocate(ca.username, ca.password))).toBe(0);
      const bAllocated = await b.allocate(cb.username, cb.password);
      const bRelay = findAttribute(bAllocated.attributes, 'XOR-RELAYED-ADDRESS')?.address;
      if (bRelay === undefined) throw new Error('no relayed address for b');
      expect(
        codeOf(
          await b.request(STUN_METHOD.createPermission, [
            { type: 'XOR-PEER-ADDRESS', address: { ...bRelay, port: 1 } },
          ]),
        ),
      ).toBe(403);
      // Relay to relay: a's permission is for b's relayed address, which is 127.0.0.1.
      expect(
        codeOf(
          await a.request(STUN_METHOD.createPermission, [
            { type: 'XOR-PEER-ADDRESS', address: bRelay },
          ]),
        ),
      ).toBe(0);
      expect(
        codeOf(
          await b.request(STUN_METHOD.createPermission, [
            { type: 'XOR-PEER-ADDRESS', address: { ...bRelay } },
          ]),
        ),
      ).toBe(0);
      const sendTo = (port: number, text: string): void => {
        a.raw(
          encodeMessage({
            method: STUN_METHOD.send,
            class: 'indication',
            transactionId: new Uint8Array(12).fill(port & 0xff),
            attributes: [
              { type: 'XOR-PEER-ADDRESS', address: { ip: '127.0.0.1', port, family: 4 } },
              { type: 'DATA', data: new TextEncoder().encode(text) },
            ],
          }),
        );
      };
      // The same IP, another port: dropped. Then b's own port, sent after it on the same path.
      sendTo(victim.address().port, 'into the host');
      sendTo(bRelay.port, 'to b');
      expect(
        codeOf(
          await b.request(STUN_METHOD.createPermission, [
            { type: 'XOR-PEER-ADDRESS', address: bRelay },
          ]),
        ),
      ).toBe(0);
      expect(await b.received(1)).toHaveLength(1);
      expect(reached).toEqual([]);
    } finally {
      a.close();
      b.close();
      victim.close();
    }
  });

  it('drops what exceeds the per-allocation cap and counts it', async () => {
    const server = { host: '127.0.0.1', port: strict.stunPort ?? 0 };
    const a = await TurnTestClient.open(server);
    const b = await TurnTestClient.open(server);
    try {
      const ca = credentials();
      const cb = credentials();
      await a.allocate(ca.username, ca.password);
      const bRelay = findAttribute(
        (await b.allocate(cb.username, cb.password)).attributes,
        'XOR-RELAYED-ADDRESS',
      )?.address;
      if (bRelay === undefined) throw new Error('no relayed address for b');
      const aRelay = await a.request(STUN_METHOD.channelBind, [
        { type: 'CHANNEL-NUMBER', channel: 0x4000 },
        { type: 'XOR-PEER-ADDRESS', address: bRelay },
      ]);
      expect(codeOf(aRelay)).toBe(0);
      // 8000 bit/s is 1000 bytes a second: of 20 datagrams of 500 bytes sent at once, most drop.
      for (let i = 0; i < 20; i++) a.raw(encodeChannelData(0x4000, new Uint8Array(500)));
      const metrics = async (): Promise<string> => (await fetch(`${strict.url}/metrics`)).text();
      let text = await metrics();
      for (
        let i = 0;
        i < 50 && !/punch_turn_dropped_total\{reason="bandwidth"\} [1-9]/.test(text);
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        text = await metrics();
      }
      expect(text).toMatch(/punch_turn_dropped_total\{reason="bandwidth"\} [1-9]/);
      const sent = /punch_turn_relayed_packets_total\{direction="to_peer"\} (\d+)/.exec(text);
      expect(Number(sent?.[1])).toBeLessThan(20);
    } finally {
      a.close();
      b.close();
    }
  });
});
