/**
 * A minimal scripted TURN client over UDP, built on @punch/core's codec, for what coturn's
 * turnutils_uclient cannot show deterministically (see turn.test.ts): it sends one request at a
 * time and waits for the answer with the same transaction id.
 */
import { createSocket, type Socket } from 'node:dgram';
import {
  STUN_METHOD,
  encodeMessage,
  encodeSignedMessage,
  findAttribute,
  longTermKey,
  parseChannelData,
  parseMessage,
  type ParsedStunMessage,
  type StunMessage,
  type TurnAttribute,
} from '@punch/core';

export class TurnTestClient {
  readonly socket: Socket;
  readonly #server: { host: string; port: number };
  readonly #waiting = new Map<string, (m: ParsedStunMessage) => void>();
  readonly #data: Uint8Array[] = [];
  #onData: (() => void) | undefined;
  #key: Uint8Array | undefined;
  #auth: TurnAttribute[] = [];

  private constructor(socket: Socket, server: { host: string; port: number }) {
    this.socket = socket;
    this.#server = server;
    socket.on('message', (msg: Buffer) => {
      const bytes = new Uint8Array(msg);
      const parsed = parseMessage(bytes);
      if (parsed.ok && parsed.message.class !== 'indication') {
        this.#waiting.get(Buffer.from(parsed.message.transactionId).toString('hex'))?.(
          parsed.message,
        );
        return;
      }
      if (parsed.ok) {
        const data = findAttribute(parsed.message.attributes, 'DATA')?.data;
        if (data !== undefined) this.#data.push(data.slice());
      } else {
        const cd = parseChannelData(bytes);
        if (cd.ok) this.#data.push(cd.data.slice());
      }
      this.#onData?.();
    });
  }

  static async open(server: { host: string; port: number }): Promise<TurnTestClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new TurnTestClient(socket, server);
  }

  /** Sends raw bytes to the server. */
  raw(bytes: Uint8Array): void {
    this.socket.send(bytes, this.#server.port, this.#server.host);
  }

  /** One request, signed once `allocate` has authenticated; resolves to the answer. */
  async request(
    method: number,
    attributes: TurnAttribute[],
    sign = true,
    /** Signs with this key instead of the allocation's (a forged MESSAGE-INTEGRITY). */
    key?: Uint8Array,
  ): Promise<ParsedStunMessage> {
    const transactionId = crypto.getRandomValues(new Uint8Array(12));
    const message: StunMessage = {
      method,
      class: 'request',
      transactionId,
      attributes: sign ? [...attributes, ...this.#auth] : attributes,
    };
    const signWith = key ?? this.#key;
    const bytes =
      sign && signWith !== undefined
        ? await encodeSignedMessage(message, signWith, { fingerprint: true })
        : encodeMessage(message, { fingerprint: true });
    const id = Buffer.from(transactionId).toString('hex');
    return new Promise<ParsedStunMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`no answer to TURN method ${method}`));
      }, 5000);
      this.#waiting.set(id, (m) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(m);
      });
      this.raw(bytes);
    });
  }

  /**
   * The 401 challenge, then an authenticated Allocate; resolves to the success (or error).
   * `nonce` replaces the one the server gave (to see it refused).
   */
  async allocate(
    username: string,
    password: string,
    options: { nonce?: string } = {},
  ): Promise<ParsedStunMessage> {
    const transport: TurnAttribute = { type: 'REQUESTED-TRANSPORT', protocol: 17 };
    const challenge = await this.request(STUN_METHOD.allocate, [transport], false);
    const realm = findAttribute(challenge.attributes, 'REALM')?.value ?? '';
    const nonce = options.nonce ?? findAttribute(challenge.attributes, 'NONCE')?.value ?? '';
    this.#key = longTermKey(username, realm, password);
    this.#auth = [
      { type: 'USERNAME', value: username },
      { type: 'REALM', value: realm },
      { type: 'NONCE', value: nonce },
    ];
    return this.request(STUN_METHOD.allocate, [transport]);
  }

  /** Resolves to the next `n` payloads relayed back (Data indications or ChannelData). */
  async received(n: number): Promise<Uint8Array[]> {
    if (this.#data.length < n) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`got ${this.#data.length} of ${n} relayed datagrams`));
        }, 5000);
        this.#onData = () => {
          if (this.#data.length < n) return;
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.#data.splice(0, n);
  }

  close(): void {
    this.socket.close();
  }
}

/** The ERROR-CODE of an answer, or 0 for a success. */
export function codeOf(m: ParsedStunMessage): number {
  return m.class === 'success' ? 0 : (findAttribute(m.attributes, 'ERROR-CODE')?.code ?? -1);
}
