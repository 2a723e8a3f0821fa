/**
 * A fake vMix TCP API server (vMix itself runs only on Windows), faithful to the parts of
 * https://www.vmix.com/help28/TCPAPI.html the tally bridge uses: port 8099 by default (here any),
 * UTF-8 lines ending in \r\n, `VERSION OK …` on connect, `SUBSCRIBE TALLY` answered
 * `SUBSCRIBE OK TALLY` and followed by `TALLY OK <digits>` on every change, `TALLY` answered
 * with the state now, and `<COMMAND> ER …` for a command it does not know.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export class FakeVmix {
  #server: Server | undefined;
  readonly #clients = new Set<Socket>();
  readonly #subscribed = new Set<Socket>();
  #tally: string;
  port = 0;
  /** Every command line received, in order. */
  readonly commands: string[] = [];

  constructor(tally = '0000') {
    this.#tally = tally;
  }

  /** Listens on 127.0.0.1 (`port` 0: any; the same port again after `stop()`). */
  async start(port = this.port): Promise<void> {
    const server = createServer((socket) => {
      this.#clients.add(socket);
      socket.setEncoding('utf8');
      socket.write('VERSION OK 27.0.0.49\r\n');
      let buffered = '';
      socket.on('data', (chunk: string) => {
        buffered += chunk;
        let nl = buffered.indexOf('\r\n');
        while (nl >= 0) {
          this.#command(socket, buffered.slice(0, nl));
          buffered = buffered.slice(nl + 2);
          nl = buffered.indexOf('\r\n');
        }
      });
      // The bridge under test going away mid-write is part of the tests.
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.#clients.delete(socket);
        this.#subscribed.delete(socket);
      });
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
  }

  /** Clients that subscribed to tally. */
  get subscribers(): number {
    return this.#subscribed.size;
  }

  /** A switch in vMix: one digit per input (0 off, 1 program, 2 preview), pushed to subscribers. */
  setTally(digits: string): void {
    this.#tally = digits;
    for (const s of this.#subscribed) s.write(`TALLY OK ${digits}\r\n`);
  }

  /** Raw bytes to every subscriber (malformed lines, for the tests). */
  sendRaw(text: string): void {
    for (const s of this.#subscribed) s.write(text);
  }

  /** vMix closes: every connection dropped, the port released. */
  async stop(): Promise<void> {
    for (const s of this.#clients) s.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined)
      await new Promise<void>((r) =>
        server.close(() => {
          r();
        }),
      );
  }

  #command(socket: Socket, line: string): void {
    this.commands.push(line);
    const [cmd = '', ...args] = line.split(' ');
    if (cmd === 'SUBSCRIBE' && args[0] === 'TALLY') {
      this.#subscribed.add(socket);
      socket.write('SUBSCRIBE OK TALLY\r\n');
    } else if (cmd === 'UNSUBSCRIBE' && args[0] === 'TALLY') {
      this.#subscribed.delete(socket);
      socket.write('UNSUBSCRIBE OK TALLY\r\n');
    } else if (cmd === 'TALLY') {
      socket.write(`TALLY OK ${this.#tally}\r\n`);
    } else {
      socket.write(`${cmd} ER Unknown command\r\n`);
    }
  }
}
