/**
 * A fake Blackmagic ATEM: a recorded-packet fake, because no ATEM simulator can be had (none on
 * npm or in Debian; Blackmagic's own software needs the hardware). It answers on UDP as an ATEM
 * does on port 9910, with packets laid out as the ATEM protocol has them (documented by
 * SKAARHOJ, openswitcher.org and atem-connection's src/lib/atemSocketChild.ts, whose client
 * hello it expects byte for byte):
 *
 * - a 12-byte header on every packet: 5 flag bits (1 ack request, 2 hello/new session,
 *   4 retransmit, 8 retransmit request, 16 ack) and an 11-bit length, the session id, the packet
 *   id acknowledged, 4 unused bytes, the packet's own id;
 * - the hello: the client's `10 14 53 ab … 01 00 …` answered with a hello carrying `02` (accepted);
 * - the state dump after the client's ack: `_ver` (protocol 2.30), `_top` (topology: one ME),
 *   `TlSr` (tally by source: a count, then per source its number and program/preview bits),
 *   `InCm` (init complete), each command an 8-byte header (length, 2 unused bytes, 4-letter name) and its payload, packets
 *   numbered 1, 2, … and each asking for an ack;
 * - an empty ack-requesting packet every 500 ms, which the client takes as the ATEM alive;
 * - a `TlSr` packet on every change (`setTally`);
 * - or, standing in for an ATEM that sends no tally, ME 1's `PrgI` and `PrvI` (program and
 *   preview input: the ME, an unused byte, the source) in the dump and on `setMixEffect`.
 *
 * What it does not model: the rest of the state dump (inputs, MEs, ...: atem-connection reads
 * none of it for tally), retransmission (loopback loses nothing), a second client.
 * atem-connection, the real client the bridge runs, is what keeps it honest.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

const ACK_REQUEST = 0x01;
const HELLO = 0x02;
const ACK = 0x10;

/** Program and preview bits per source number, as `TlSr` carries them. */
export type AtemTally = Record<number, 'program' | 'preview' | 'both' | 'off'>;

const BITS = { off: 0, program: 1, preview: 2, both: 3 } as const;

/** One ATEM command: 8-byte header (length, 2 unused, name) and its payload. */
export function command(name: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(8 + payload.length, 0);
  head.write(name, 4, 4, 'ascii');
  return Buffer.concat([head, payload]);
}

/** `TlSr`: the number of sources, then each source's number (u16) and lamp bits (u8). */
export function tlsr(tally: AtemTally): Buffer {
  const entries = Object.entries(tally);
  const payload = Buffer.alloc(2 + entries.length * 3);
  payload.writeUInt16BE(entries.length, 0);
  entries.forEach(([source, lamps], i) => {
    payload.writeUInt16BE(Number(source), 2 + i * 3);
    payload.writeUInt8(BITS[lamps], 4 + i * 3);
  });
  return command('TlSr', payload);
}

/** `PrgI` and `PrvI` for ME 1: the ME (u8), one unused byte, the source (u16). */
function meCommands(me: { program: number; preview: number }): Buffer {
  const input = (name: string, source: number): Buffer => {
    const payload = Buffer.alloc(4);
    payload.writeUInt16BE(source, 2);
    return command(name, payload);
  };
  return Buffer.concat([input('PrgI', me.program), input('PrvI', me.preview)]);
}

export class FakeAtem {
  #socket: Socket | undefined;
  #client: RemoteInfo | undefined;
  #nextId = 1;
  #session = 0x8001;
  #keepalive: NodeJS.Timeout | undefined;
  #tally: AtemTally;
  /** Set: an ATEM that sends no TlSr, only ME 1's program and preview inputs (`PrgI`, `PrvI`). */
  #me: { program: number; preview: number } | undefined;
  port = 0;
  /** Hellos received: one per (re)connection of the client. */
  hellos = 0;

  constructor(tally: AtemTally, me?: { program: number; preview: number }) {
    this.#tally = tally;
    this.#me = me;
  }

  /** Listens on 127.0.0.1 (`port` 0: any; the same port again after `stop()`). */
  async start(port = this.port): Promise<void> {
    const socket = createSocket('udp4');
    this.#socket = socket;
    socket.on('message', (packet, from) => {
      this.#receive(packet, from);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.port = socket.address().port;
    this.#keepalive = setInterval(() => {
      if (this.#client !== undefined) this.#send(Buffer.alloc(0));
    }, 500);
  }

  /** A cut on the switcher: the new tally of every source, sent as one `TlSr`. */
  setTally(tally: AtemTally): void {
    this.#tally = tally;
    this.#send(tlsr(tally));
  }

  /** A cut on an ATEM without TlSr: ME 1's new program and preview inputs. */
  setMixEffect(program: number, preview: number): void {
    this.#me = { program, preview };
    this.#send(meCommands(this.#me));
  }

  /** Commands sent as they are (a broken one, for the bridge's bad-frame count). */
  sendRaw(commands: Buffer): void {
    this.#send(commands);
  }

  /** The ATEM goes away: the port closed, nothing answered any more. */
  async stop(): Promise<void> {
    clearInterval(this.#keepalive);
    const socket = this.#socket;
    this.#socket = undefined;
    this.#client = undefined;
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(resolve));
  }

  #receive(packet: Buffer, from: RemoteInfo): void {
    if (packet.length < 12) return;
    const flags = packet.readUInt8(0) >> 3;
    if (flags & HELLO) {
      // A new connection: answer the hello with the client's session id and `02` (accepted).
      this.hellos++;
      this.#client = undefined;
      const answer = Buffer.alloc(20);
      answer.writeUInt16BE((HELLO << 11) | 20, 0);
      answer.writeUInt16BE(packet.readUInt16BE(2), 2);
      answer.writeUInt8(0x02, 12);
      answer.writeUInt16BE(this.#session & 0x7fff, 14);
      this.#socket?.send(answer, from.port, from.address);
      this.#pendingClient = from;
      return;
    }
    if (flags & ACK && this.#pendingClient !== undefined && this.#client === undefined) {
      // The ack of the hello: the state dump follows, as the ATEM sends it.
      this.#client = this.#pendingClient;
      this.#pendingClient = undefined;
      this.#nextId = 1;
      this.#session = 0x8000 | ((this.#session + 1) & 0x7fff);
      const version = Buffer.alloc(4);
      version.writeUInt16BE(2, 0);
      version.writeUInt16BE(30, 2);
      this.#send(command('_ver', version));
      // `_top`: 1 ME, 20 sources, 1 DSK, 1 aux, 0 mix-minus, 1 media player, 1 multiviewer, ...
      // (atem-connection refuses ME commands for an ME the topology does not have).
      this.#send(
        command('_top', Buffer.from([1, 20, 1, 1, 0, 1, 1, ...Array<number>(17).fill(0)])),
      );
      this.#send(this.#me === undefined ? tlsr(this.#tally) : meCommands(this.#me));
      this.#send(command('InCm', Buffer.alloc(4)));
    }
    // Other acks and the client's retransmit requests: nothing is lost on loopback.
  }

  #pendingClient: RemoteInfo | undefined;

  #send(commands: Buffer): void {
    const to = this.#client;
    if (to === undefined || this.#socket === undefined) return;
    const head = Buffer.alloc(12);
    head.writeUInt16BE((ACK_REQUEST << 11) | (12 + commands.length), 0);
    head.writeUInt16BE(this.#session, 2);
    head.writeUInt16BE(this.#nextId, 10);
    this.#nextId = (this.#nextId + 1) % 0x8000;
    this.#socket.send(Buffer.concat([head, commands]), to.port, to.address);
  }
}
