/**
 * `--tsl-out tsl5+udp://HOST:PORT`: the session's tally, whoever set it (the switcher, a
 * producer's press on the dashboard), sent on as TSL UMD v5.0 to tally lights and multiviewer
 * labels. It follows the session over its WebSocket as an admin, and sends one packet per
 * stream (label = the stream's name; red on program, green on preview) on every change and
 * again every few seconds, so a light switched on mid-show catches up.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Tally } from './mapping.js';
import { hostPort, type SourceUrl } from './source.js';
import { encodePacket, type Lamp } from './tsl5.js';

/** How often the whole state is sent again (TSL receivers expect a refresh, not only changes). */
const REFRESH_MS = 2000;

export type TslOutEvent =
  | { readonly type: 'sent'; readonly packets: number }
  | { readonly type: 'send-failed'; readonly reason: string };

export class TslOut {
  readonly label: string;
  readonly #url: SourceUrl;
  readonly #socket: Socket;
  readonly #onEvent: (e: TslOutEvent) => void;
  #indexes = new Map<string, number>();
  #tally: Tally | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(url: SourceUrl, onEvent: (e: TslOutEvent) => void) {
    this.#url = url;
    this.#onEvent = onEvent;
    this.label = `TSL 5.0 to UDP ${hostPort(url.host, url.port)}`;
    this.#socket = createSocket(url.host.includes(':') ? 'udp6' : 'udp4');
    // Send errors (no route, ICMP unreachable on a later send) arrive here; each send reports its own.
    this.#socket.on('error', () => undefined);
    this.#timer = setInterval(() => {
      this.#send(false);
    }, REFRESH_MS);
  }

  /** Which display index each stream lights, and its label (the stream name). */
  streams(indexes: ReadonlyMap<string, number>): void {
    this.#indexes = new Map(indexes);
    this.#send();
  }

  /** The session's tally now. */
  tally(tally: Tally): void {
    this.#tally = tally;
    this.#send();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#socket.close();
  }

  /** Sends every display; `report` off for the periodic refresh, which is not news. */
  #send(report = true): void {
    const tally = this.#tally;
    if (tally === undefined || this.#timer === undefined) return;
    // One display per packet: many receivers (tsl-umd-v5 among them) read only the first.
    const packets = [...this.#indexes].map(([stream, index]) => {
      const lamp: Lamp = tally.program.includes(stream)
        ? 1
        : tally.preview.includes(stream)
          ? 2
          : 0;
      return encodePacket({
        screen: 0,
        displays: [{ index, rh: lamp, text: lamp, lh: lamp, brightness: 3, label: stream }],
      });
    });
    for (const p of packets) {
      this.#socket.send(p, this.#url.port, this.#url.host, (err) => {
        if (err === null || err === undefined) {
          this.#failing = false;
          return;
        }
        // Said once per outage, not once per packet every two seconds.
        if (this.#failing) return;
        this.#failing = true;
        this.#onEvent({ type: 'send-failed', reason: err.message });
      });
    }
    if (report) this.#onEvent({ type: 'sent', packets: packets.length });
  }
}
