/**
 * TURN over TCP on Punch's STUN port (RFC 8656 §3.1, RFC 6062 framing), driven by coturn's own
 * client (`turnutils_uclient -t`) as a real third-party client; the agent's TURN client over TCP
 * against Punch; and raw connections for what no client does on purpose: garbage, oversized
 * frames, a connection flood, a connection cut under an allocation.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TurnStreamFramer,
  encodeBindingRequest,
  parseBindingResponse,
  turnCredentials,
} from '@punch/core';
import { startHost, type Host } from '../conformance/host.js';
import { TurnClient, TurnClientError } from '../../packages/cli/src/peer/turn-client.js';
import type { Addr } from '../../packages/cli/src/peer/media-path.js';

const SECRET = 'turn-tcp-integration-secret-0123456789';
const WAIT_MS = 10_000;
const HAVE_UCLIENT = spawnSync('turnutils_uclient', [], { timeout: 5000 }).error === undefined;
if (!HAVE_UCLIENT) {
  console.warn(
    '\n*** turnutils_uclient (coturn) is NOT installed: the TURN-over-TCP interop tests are ' +
      'SKIPPED. Install coturn (apt-get install coturn) to run them. ***\n',
  );
  if (process.env.CI === 'true') throw new Error('CI needs coturn for the TURN-over-TCP tests');
}

let host: Host;
let stunPort: number;
let echo: UdpSocket;
let echoPort: number;
let user = 0;

function credentials(password?: string): { username: string; password: string } {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:tcp${++user}`;
  return {
    username,
    password: password ?? createHmac('sha1', SECRET).update(username).digest('base64'),
  };
}

/** Runs turnutils_uclient over TCP (-t) against Punch; its exit code and everything printed. */
function uclient(args: string[], password?: string): Promise<{ code: number; output: string }> {
  const c = credentials(password);
  return new Promise((resolve) => {
    execFile(
      'turnutils_uclient',
      ['-t', '-u', c.username, '-w', c.password, '-p', String(stunPort), ...args, '127.0.0.1'],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

async function metrics(): Promise<string> {
  return (await fetch(`${host.url}/metrics`)).text();
}

function metric(text: string, line: string): number {
  const escaped = line.replace(/[{}"]/g, (c) => `\\${c}`);
  const m = new RegExp(`^${escaped} (\\d+)`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

/** A raw TCP connection to the STUN port: whole frames in, and whether the server closed it. */
class Conn {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  readonly #framer = new TurnStreamFramer();
  readonly #frames: Uint8Array[] = [];
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', () => undefined); // a reset from the server is what some tests expect
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        resolve();
      }),
    );
    socket.on('data', (chunk: Buffer) => {
      this.#frames.push(...this.#framer.push(new Uint8Array(chunk)).frames);
      this.#wake?.();
    });
  }

  /** Resolves once connected, or once closed (a connection refused over a cap may be reset early). */
  static async open(localAddress = '127.0.0.1'): Promise<Conn> {
    const conn = new Conn(connect({ host: '127.0.0.1', port: stunPort, localAddress }));
    await Promise.race([
      new Promise((resolve) => conn.socket.once('connect', resolve)),
      conn.closed,
    ]);
    return conn;
  }

  /** Sends a Binding request: resolves to the mapped port, or undefined if the server closed. */
  async binding(): Promise<number | undefined> {
    this.socket.write(encodeBindingRequest(crypto.getRandomValues(new Uint8Array(12))));
    const frame = await Promise.race([this.#next(), this.closed.then(() => undefined)]);
    return frame === undefined ? undefined : parseBindingResponse(frame)?.mapped.port;
  }

  async #next(): Promise<Uint8Array> {
    for (let i = 0; i < 100; i++) {
      const f = this.#frames.shift();
      if (f !== undefined) return f;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    throw new Error('no frame from the server');
  }
}

beforeAll(async () => {
  host = await startHost({ extraArgs: ['--relay-allow-private', '--turn-secret', SECRET] });
  stunPort = host.stunPort ?? 0;
  echo = createSocket('udp4');
  echo.on('message', (msg, rinfo) => {
    echo.send(msg, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => echo.bind(0, '127.0.0.1', resolve));
  echoPort = echo.address().port;
});
afterAll(async () => {
  echo.close();
  await host.stop();
});

describe.skipIf(!HAVE_UCLIENT)('turnutils_uclient -t (coturn) against the relay over TCP', () => {
  it('allocates over TCP and relays ChannelData (padded: 201-byte payloads), none lost', async () => {
    const { code, output } = await uclient([
      '-c',
      '-e',
      '127.0.0.1',
      '-r',
      String(echoPort),
      '-n',
      '20',
      '-l',
      '201',
    ]);
    expect(output).not.toContain('channel bind: error');
    expect(output).toContain('tot_send_msgs=20, tot_recv_msgs=20');
    expect(output).toContain('Total lost packets 0 (0.000000%)');
    expect(code).toBe(0);
  });

  it('relays Send and Data indications over TCP, none lost', async () => {
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

  it('relays TCP client to TCP client, relayed address to relayed address, none lost', async () => {
    const { code, output } = await uclient(['-y', '-c', '-n', '20', '-l', '1200']);
    expect(output).toContain('tot_send_msgs=40, tot_recv_msgs=40');
    expect(output).toContain('Total lost packets 0 (0.000000%)');
    expect(code).toBe(0);
  });

  it('refuses a wrong password over TCP: the client cannot allocate', async () => {
    const { code, output } = await uclient(
      ['-c', '-e', '127.0.0.1', '-r', String(echoPort), '-n', '5'],
      'd3JvbmcgcGFzc3dvcmQ=',
    );
    expect(output).toContain('Cannot complete Allocation');
    expect(output).not.toContain('Total lost packets');
    expect(code).not.toBe(0);
  });

  it('answers a TCP relay (-T, REQUESTED-TRANSPORT=TCP) with 442: only UDP is relayed', async () => {
    const { code, output } = await uclient(['-T', '-n', '2']);
    expect(output).toContain('error 442');
    expect(output).not.toContain('Total lost packets');
    expect(code).not.toBe(0);
  });

  it('refuses a flood beyond the per-IP cap, and keeps serving everyone else', async () => {
    // From an address of their own on loopback, so no other test's connection counts.
    const flood = await Promise.all(Array.from({ length: 60 }, () => Conn.open('127.0.0.9')));
    try {
      const answers = await Promise.all(flood.map((c) => c.binding()));
      expect(answers.filter((p) => p !== undefined)).toHaveLength(50);
      expect(answers.filter((p) => p === undefined)).toHaveLength(10);
      // Meanwhile a client from another address allocates and relays as usual.
      const { code, output } = await uclient([
        '-c',
        '-e',
        '127.0.0.1',
        '-r',
        String(echoPort),
        '-n',
        '10',
        '-l',
        '100',
      ]);
      expect(output).toContain('tot_send_msgs=10, tot_recv_msgs=10');
      expect(code).toBe(0);
    } finally {
      flood.forEach((c) => c.socket.destroy());
    }
    const text = await metrics();
    expect(metric(text, 'punch_turn_tcp_connections_total{outcome="refused-per-ip"}')).toBe(10);
    expect(metric(text, 'punch_turn_tcp_connections_total{outcome="accepted"}')).toBeGreaterThan(
      50,
    );
  });
});

describe('TURN over TCP with raw connections', () => {
  it('answers Binding on the stream with the connection’s own source address', async () => {
    const c = await Conn.open();
    try {
      expect(await c.binding()).toBe(c.socket.localPort);
    } finally {
      c.socket.destroy();
    }
  });

  it('closes only the connection that sends garbage or an oversized frame', async () => {
    const bystander = await Conn.open();
    const garbage = await Conn.open();
    const oversized = await Conn.open();
    try {
      // A TLS ClientHello on the plain port, after a well-formed Binding on the same connection:
      // it reads as a STUN header without the magic cookie, which is not TURN framing.
      expect(await garbage.binding()).toBe(garbage.socket.localPort);
      garbage.socket.write(Buffer.from('160301010001000100fc0303' + '00'.repeat(64), 'hex'));
      await garbage.closed;
      // A STUN header announcing 65552 bytes: refused before anything is buffered for it.
      oversized.socket.write(Buffer.from('0003fffc2112a442000000000000000000000000', 'hex'));
      await oversized.closed;

      expect(await bystander.binding()).toBe(bystander.socket.localPort);
      const fresh = await Conn.open();
      expect(await fresh.binding()).toBe(fresh.socket.localPort);
      fresh.socket.destroy();
      // And UDP on the same port still answers.
      const udp = createSocket('udp4');
      try {
        const answer = new Promise<Buffer>((resolve) => udp.once('message', resolve));
        udp.send(encodeBindingRequest(new Uint8Array(12).fill(7)), stunPort, '127.0.0.1');
        expect(parseBindingResponse(new Uint8Array(await answer))?.mapped.ip).toBe('127.0.0.1');
      } finally {
        udp.close();
      }
    } finally {
      for (const c of [bystander, garbage, oversized]) c.socket.destroy();
    }
    const text = await metrics();
    expect(metric(text, 'punch_turn_tcp_closed_total{reason="garbage"}')).toBe(1);
    expect(metric(text, 'punch_turn_tcp_closed_total{reason="too-large"}')).toBe(1);
  });
});

describe("the agent's TURN client over TCP against the relay", () => {
  const clients: TurnClient[] = [];
  const sockets: UdpSocket[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    sockets.forEach((s) => s.close());
  });

  /** A client with its received payloads, its losses, and a way to wait for the next one. */
  async function agent(id: string, server: Addr, transport: 'udp' | 'tcp') {
    const creds = await turnCredentials(SECRET, id, Math.floor(Date.now() / 1000) + 600);
    const got: string[] = [];
    const lost: TurnClientError[] = [];
    const common = {
      server,
      username: creds.username,
      password: creds.credential,
      onData: (_peer: Addr, data: Uint8Array) => {
        got.push(Buffer.from(data).toString('utf8'));
      },
      onLost: (err: TurnClientError) => {
        lost.push(err);
      },
    };
    let turn: TurnClient;
    if (transport === 'tcp') {
      turn = new TurnClient({ ...common, transport: 'tcp' });
    } else {
      const socket = createSocket('udp4');
      sockets.push(socket);
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      turn = new TurnClient({ ...common, socket });
      socket.on('message', (msg, rinfo) => {
        turn.onDatagram(msg, { ip: rinfo.address, port: rinfo.port });
      });
    }
    clients.push(turn);
    return { turn, got, lost };
  }

  /** Waits (bounded) until `ready()` holds. */
  async function until(ready: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < WAIT_MS / 50 && !ready(); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!ready()) throw new Error(`not within ${WAIT_MS} ms: ${what}`);
  }

  it('a TCP agent and a UDP agent relay to each other through Punch', async () => {
    const server = { ip: '127.0.0.1', port: stunPort };
    const a = await agent('tcp-a', server, 'tcp');
    const b = await agent('udp-b', server, 'udp');
    const [ra, rb] = await Promise.all([a.turn.allocate(), b.turn.allocate()]);
    expect(ra.mapped?.port).not.toBe(stunPort);
    await Promise.all([a.turn.permit([rb.relayed]), b.turn.permit([ra.relayed])]);
    a.turn.send(rb.relayed, new TextEncoder().encode('tcp to udp by indication'));
    b.turn.send(ra.relayed, new TextEncoder().encode('udp to tcp by indication'));
    await until(() => a.got.length > 0 && b.got.length > 0, 'indications both ways');
    await Promise.all([a.turn.bind(rb.relayed), b.turn.bind(ra.relayed)]);
    a.turn.send(rb.relayed, new TextEncoder().encode('odd: 13 bytes'));
    b.turn.send(ra.relayed, new TextEncoder().encode('back, on a channel'));
    await until(() => a.got.length > 1 && b.got.length > 1, 'channels both ways');
    expect(b.got).toEqual(['tcp to udp by indication', 'odd: 13 bytes']);
    expect(a.got).toEqual(['udp to tcp by indication', 'back, on a channel']);
    expect(a.lost).toEqual([]);
  });

  it('a cut connection ends the allocation on the relay and is reported as lost', async () => {
    // A plain TCP forwarder between the client and Punch, so the test can cut the connection.
    const cut: Socket[] = [];
    const proxy: Server = createServer((down) => {
      const up = connect({ host: '127.0.0.1', port: stunPort });
      cut.push(up, down);
      down.pipe(up).pipe(down);
      for (const s of [up, down]) s.on('error', () => undefined); // cut on purpose below
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const address = proxy.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const a = await agent('tcp-cut', { ip: '127.0.0.1', port }, 'tcp');
      const { relayed } = await a.turn.allocate();
      for (const s of cut) s.destroy();
      await until(() => a.lost.length > 0, 'onLost after the cut');
      expect(a.lost[0]).toBeInstanceOf(TurnClientError);
      expect(a.turn.relayed).toBeUndefined();
      // Punch let the relayed port go: it can be bound again.
      let free = false;
      for (let i = 0; i < 100 && !free; i++) {
        const probe = createSocket('udp4');
        free = await new Promise<boolean>((resolve) => {
          probe.once('error', () => {
            resolve(false);
          });
          probe.bind(relayed.port, '127.0.0.1', () => {
            resolve(true);
          });
        });
        probe.close();
        if (!free) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(free).toBe(true);
    } finally {
      proxy.close();
    }
  });
});
