/**
 * `tsl5+udp://[HOST]:PORT` and `tsl5+tcp://…`: listens for TSL UMD v5.0 from a router or
 * switcher. Keys are display indexes; red (or amber) on any lamp of a display is program,
 * green is preview.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { KeyState } from './mapping.js';
import { Retry, hostPort, type SourceEvent, type SourceUrl, type TallySource } from './source.js';
import { DleDeframer, decodePacket, type TslDisplay } from './tsl5.js';

/** More displays than a router has: a flood of fresh indexes cannot grow memory without bound. */
const MAX_DISPLAYS = 4096;
/** TSL 5.0's broadcast display index: a message for every display at once. */
const EVERY_DISPLAY = 0xffff;
/** TCP senders at once: a tally feed is one or two connections. */
const MAX_TCP_SENDERS = 8;

/** The state a display's lamps say: red or amber anywhere is program, else green is preview. */
export function displayState(d: TslDisplay): KeyState {
  const lamps = [d.rh, d.text, d.lh];
  if (lamps.some((l) => l === 1 || l === 3)) return 'program';
  if (lamps.some((l) => l === 2)) return 'preview';
  return 'off';
}

export class TslListener implements TallySource {
  readonly label: string;
  readonly #url: SourceUrl;
  readonly #emit: (e: SourceEvent) => void;
  readonly #state = new Map<string, KeyState>();
  /** What the last broadcast said of every display not named since. */
  #others: KeyState = 'off';
  readonly #retry = new Retry();
  #udp: Socket | undefined;
  #tcp: Server | undefined;
  /** Each open TCP sender and when it last sent (performance.now()). */
  readonly #senders = new Map<TcpSocket, number>();
  #stopped = false;

  constructor(url: SourceUrl, emit: (e: SourceEvent) => void) {
    this.#url = url;
    this.#emit = emit;
    const transport = url.kind === 'tsl5+tcp' ? 'TCP' : 'UDP';
    this.label = `TSL 5.0 on ${transport} ${hostPort(url.host, url.port)}`;
  }

  start(): void {
    if (this.#stopped) return;
    if (this.#url.kind === 'tsl5+tcp') this.#listenTcp();
    else this.#listenUdp();
  }

  stop(): void {
    this.#stopped = true;
    this.#retry.cancel();
    this.#udp?.close();
    this.#tcp?.close();
    // Closing the server leaves its connections open: a switcher that never hangs up would
    // keep a stopped bridge running.
    for (const conn of this.#senders.keys()) conn.destroy();
    this.#senders.clear();
    this.#udp = undefined;
    this.#tcp = undefined;
  }

  #listenUdp(): void {
    const family = this.#url.host.includes(':') ? 'udp6' : 'udp4';
    const socket = createSocket(family);
    this.#udp = socket;
    socket.on('message', (msg) => {
      this.#packet(new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      socket.close();
      this.#lost(
        `cannot listen on UDP ${hostPort(this.#url.host, this.#url.port)} (${err.code ?? err.message})`,
      );
    });
    socket.on('listening', () => {
      this.#retry.reset();
      const a = socket.address();
      this.#emit({ type: 'connected', detail: `listening on UDP ${hostPort(a.address, a.port)}` });
    });
    socket.bind(this.#url.port, this.#url.host === '' ? undefined : this.#url.host);
  }

  #listenTcp(): void {
    const senders = this.#senders;
    const server = createServer((conn) => {
      if (senders.size >= MAX_TCP_SENDERS) {
        // The sender silent the longest makes room: refusing the newcomer instead would let
        // connections that never send (a scanner, a switcher's half-open socket from before
        // its reboot) shut the switcher out for good.
        const [quietest] = [...senders].sort((a, b) => a[1] - b[1])[0] ?? [];
        quietest?.destroy();
        if (quietest !== undefined) senders.delete(quietest);
        this.#emit({
          type: 'bad-frame',
          reason: `a TCP sender over the ${MAX_TCP_SENDERS} allowed: the one silent the longest was closed`,
        });
      }
      senders.set(conn, performance.now());
      // A sender whose machine died without closing (power, cable) is found and its place freed.
      conn.setKeepAlive(true, 5000);
      const from = hostPort(conn.remoteAddress ?? '?', conn.remotePort ?? 0);
      this.#emit({ type: 'note', text: `TSL sender ${from} connected` });
      const deframer = new DleDeframer();
      conn.on('data', (chunk: Buffer) => {
        if (senders.has(conn)) senders.set(conn, performance.now());
        const before = deframer.dropped;
        for (const p of deframer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)))
          this.#packet(p);
        if (deframer.dropped > before)
          this.#emit({
            type: 'bad-frame',
            reason: `${deframer.dropped - before} bytes outside DLE/STX framing`,
          });
      });
      // A sender that resets its connection just leaves; its displays keep their last state.
      conn.on('error', () => undefined);
      conn.on('close', () => {
        senders.delete(conn);
        if (this.#stopped) return;
        this.#emit({ type: 'note', text: `TSL sender ${from} disconnected` });
      });
    });
    this.#tcp = server;
    server.on('error', (err: NodeJS.ErrnoException) => {
      server.close();
      this.#lost(
        `cannot listen on TCP ${hostPort(this.#url.host, this.#url.port)} (${err.code ?? err.message})`,
      );
    });
    server.listen(this.#url.port, this.#url.host === '' ? undefined : this.#url.host, () => {
      this.#retry.reset();
      const a = server.address();
      const where = a !== null && typeof a === 'object' ? hostPort(a.address, a.port) : String(a);
      this.#emit({ type: 'connected', detail: `listening on TCP ${where}` });
    });
  }

  #lost(reason: string): void {
    if (this.#stopped) return;
    this.#udp = undefined;
    this.#tcp = undefined;
    const retryInMs = this.#retry.schedule(() => {
      this.start();
    });
    this.#emit({ type: 'lost', reason, retryInMs });
  }

  #packet(bytes: Uint8Array): void {
    const at = performance.now();
    const decoded = decodePacket(bytes);
    if (!decoded.ok) {
      this.#emit({ type: 'bad-frame', reason: decoded.reason });
      return;
    }
    let changed = false;
    for (const d of decoded.packet.displays) {
      const next = displayState(d);
      if (d.index === EVERY_DISPLAY) {
        // Every display, those never named too: what was said of each one before is moot.
        changed ||= this.#others !== next || [...this.#state.values()].some((s) => s !== next);
        this.#state.clear();
        this.#others = next;
        continue;
      }
      const key = String(d.index);
      if ((this.#state.get(key) ?? this.#others) === next) continue;
      if (!this.#state.has(key) && this.#state.size >= MAX_DISPLAYS) continue;
      this.#state.set(key, next);
      changed = true;
    }
    // Routers repeat their state every second or so: only a change is news.
    if (changed)
      this.#emit({ type: 'state', state: new Map(this.#state), others: this.#others, at });
  }
}
