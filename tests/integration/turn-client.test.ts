/**
 * The agent's TURN client against real coturn (`turnserver --use-auth-secret`, as docs/turn.md
 * configures it), so it is proven to speak standard TURN: two clients on loopback allocate,
 * open permissions, and exchange data through their relayed addresses by Send/Data indications
 * and by channels; a wrong credential is refused with 401. One client over TCP (RFC 8656 §3.1, as
 * an agent behind a network that blocks UDP) and one over UDP relay to each other the same way.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { turnCredentials } from '@punch/core';
import { TurnClient, TurnClientError } from '../../packages/cli/src/peer/turn-client.js';
import type { Addr } from '../../packages/cli/src/peer/media-path.js';
import { hasCoturn, startCoturn, type Coturn } from '../coturn.js';

const SECRET = 'turn-client-test-secret-0123456789';
const WAIT_MS = 10_000;

const coturnHere = hasCoturn();
if (!coturnHere)
  process.stderr.write(
    '\n!!! SKIPPING the TURN client tests: coturn is not installed (apt-get install coturn)\n',
  );

let coturn: Coturn | undefined;
let server: Addr;

beforeAll(async () => {
  if (!coturnHere) return;
  coturn = await startCoturn(SECRET);
  server = { ip: '127.0.0.1', port: coturn.port };
});

afterAll(() => {
  coturn?.stop();
});

const sockets: Socket[] = [];
const clients: TurnClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const s of sockets.splice(0)) s.close();
});

interface Side {
  readonly turn: TurnClient;
  /** The next payload received from a peer through the relay. */
  next(): Promise<{ peer: Addr; text: string }>;
}

const lost: Error[] = [];
afterEach(() => {
  // A loss is reported from a socket event: collected here rather than thrown there.
  expect(lost.splice(0)).toEqual([]);
});

async function side(
  id: string,
  password?: string,
  transport: 'udp' | 'tcp' = 'udp',
): Promise<Side> {
  const creds = await turnCredentials(SECRET, id, Math.floor(Date.now() / 1000) + 600);
  const got: { peer: Addr; text: string }[] = [];
  const waiting: ((v: { peer: Addr; text: string }) => void)[] = [];
  const common = {
    server,
    username: creds.username,
    password: password ?? creds.credential,
    onData: (peer: Addr, data: Uint8Array) => {
      const v = { peer, text: Buffer.from(data).toString('utf8') };
      const w = waiting.shift();
      if (w === undefined) got.push(v);
      else w(v);
    },
    onLost: (err: Error) => {
      lost.push(err);
    },
  };
  let turn: TurnClient;
  if (transport === 'tcp') {
    // Over TCP the client opens its own connection: no media socket is involved.
    turn = new TurnClient({ ...common, transport: 'tcp' });
  } else {
    const socket = createSocket('udp4');
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const udp = new TurnClient({ ...common, socket });
    turn = udp;
    // As the agent does: every datagram of the media socket is offered to the client.
    socket.on('message', (msg, rinfo) => {
      udp.onDatagram(msg, { ip: rinfo.address, port: rinfo.port });
    });
  }
  clients.push(turn);
  return {
    turn,
    next: () => {
      const v = got.shift();
      if (v !== undefined) return Promise.resolve(v);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`nothing relayed to ${id} within ${WAIT_MS} ms`));
        }, WAIT_MS);
        waiting.push((value) => {
          clearTimeout(timer);
          resolve(value);
        });
      });
    },
  };
}

it.skipIf(!coturnHere)(
  'two agents relay to each other through coturn: indications, then channels',
  async () => {
    const [a, b] = await Promise.all([side('agent-a'), side('agent-b')]);
    const [ra, rb] = await Promise.all([a.turn.allocate(), b.turn.allocate()]);
    expect(ra.relayed.ip).toBe('127.0.0.1');
    expect(ra.relayed.port).not.toBe(rb.relayed.port);
    expect(ra.mapped).toMatchObject({ ip: '127.0.0.1' });
    await Promise.all([a.turn.permit([rb.relayed]), b.turn.permit([ra.relayed])]);

    // Send indication out, Data indication in.
    a.turn.send(rb.relayed, new TextEncoder().encode('hello by indication'));
    expect(await b.next()).toEqual({ peer: ra.relayed, text: 'hello by indication' });

    // Channels both ways.
    await Promise.all([a.turn.bind(rb.relayed), b.turn.bind(ra.relayed)]);
    b.turn.send(ra.relayed, new TextEncoder().encode('back on a channel'));
    expect(await a.next()).toEqual({ peer: rb.relayed, text: 'back on a channel' });
    a.turn.send(rb.relayed, new Uint8Array(1316).fill(0x47)); // an SRT-sized payload
    const big = await b.next();
    expect(big.text.length).toBe(1316);
  },
);

it.skipIf(!coturnHere)('a wrong credential is refused with 401', async () => {
  const a = await side('agent-c', 'not-the-password');
  const err = await a.turn.allocate().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TurnClientError);
  expect((err as TurnClientError).code).toBe(401);
});

it.skipIf(!coturnHere)(
  'an expired credential is refused; a closed client does no more',
  async () => {
    const socket = createSocket('udp4');
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const old = await turnCredentials(SECRET, 'agent-d', Math.floor(Date.now() / 1000) - 60);
    const expired = new TurnClient({
      socket,
      server,
      username: old.username,
      password: old.credential,
      onData: () => undefined,
      onLost: () => undefined,
    });
    clients.push(expired);
    socket.on('message', (msg, rinfo) => {
      expired.onDatagram(msg, { ip: rinfo.address, port: rinfo.port });
    });
    await expect(expired.allocate()).rejects.toMatchObject({ code: 401 });

    // Closing releases the allocation (Refresh with LIFETIME 0, answered) and refuses more work.
    const fresh = await side('agent-e');
    const { relayed } = await fresh.turn.allocate();
    await fresh.turn.close();
    await expect(fresh.turn.permit([relayed])).rejects.toMatchObject({
      code: 0,
      message: 'closed',
    });
  },
);

it.skipIf(!coturnHere)(
  'a TCP agent and a UDP agent relay to each other through coturn: indications, then channels',
  async () => {
    const [a, b] = await Promise.all([side('agent-tcp', undefined, 'tcp'), side('agent-udp')]);
    const [ra, rb] = await Promise.all([a.turn.allocate(), b.turn.allocate()]);
    expect(ra.relayed.ip).toBe('127.0.0.1');
    // The TCP client's mapped address is its connection's, not a media socket's.
    expect(ra.mapped).toMatchObject({ ip: '127.0.0.1' });
    await Promise.all([a.turn.permit([rb.relayed]), b.turn.permit([ra.relayed])]);

    a.turn.send(rb.relayed, new TextEncoder().encode('from TCP by indication'));
    expect(await b.next()).toEqual({ peer: ra.relayed, text: 'from TCP by indication' });
    b.turn.send(ra.relayed, new TextEncoder().encode('to TCP by indication'));
    expect(await a.next()).toEqual({ peer: rb.relayed, text: 'to TCP by indication' });

    // Channels: ChannelData over TCP is padded to 4 bytes both ways (odd lengths on purpose).
    await Promise.all([a.turn.bind(rb.relayed), b.turn.bind(ra.relayed)]);
    b.turn.send(ra.relayed, new TextEncoder().encode('odd, on a channel'));
    expect(await a.next()).toEqual({ peer: rb.relayed, text: 'odd, on a channel' });
    a.turn.send(rb.relayed, new Uint8Array(1317).fill(0x47));
    expect((await b.next()).text.length).toBe(1317);
    a.turn.send(rb.relayed, new TextEncoder().encode('next'));
    expect(await b.next()).toEqual({ peer: ra.relayed, text: 'next' });
  },
);

it.skipIf(!coturnHere)('over TCP too, a wrong credential is refused with 401', async () => {
  const a = await side('agent-tcp-wrong', 'not-the-password', 'tcp');
  await expect(a.turn.allocate()).rejects.toMatchObject({ code: 401 });
});
