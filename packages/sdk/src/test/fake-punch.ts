/**
 * Test double for a Punch host: core's real SignalRoom and real peer-token verification, with
 * in-memory WebSockets instead of a network. Frames are delivered asynchronously (a macrotask
 * each, in order), as over a socket.
 */
import {
  generateProjectKey,
  silentLogger,
  Revocations,
  SignalRoom,
  verifyPeerToken,
  importPublicKey,
  type PunchError,
  type KeyRecord,
  type SignalConn,
  type SignalServerMessage,
} from '@punch/core';
import type { JWK } from 'jose';
import { mintPeerToken } from '../mint.js';
import type { AllowRule } from '../ids.js';
import type { WebSocketConstructor, WebSocketLike } from '../socket.js';

type Listener = (event: unknown) => void;

export interface FakeSocketInfo {
  readonly url: string;
  readonly protocols: readonly string[];
  /** Drops the connection as a network failure would (close 1006, no close frame). */
  drop(): void;
  /** Stops delivering the server's frames (a dead path the socket has not noticed). */
  mute(): void;
  readonly sent: string[];
}

export class FakePunch {
  readonly project = 'p1';
  readonly room: SignalRoom;
  readonly sockets: FakeSocketInfo[] = [];
  /** Upgrades refused with this HTTP status while set. */
  refuseWith: number | undefined;
  #key: { kid: string; privateJwk: JWK; record: KeyRecord; key: CryptoKey } | undefined;
  #deleted = new Set<string>();
  #seq = 0;

  constructor() {
    this.room = new SignalRoom({
      project: this.project,
      log: silentLogger,
      now: () => Date.now(),
      verify: (token) => this.#verify(token),
      iceServers: () => Promise.resolve([]),
      audit: () => undefined,
      revocations: new Revocations(),
    });
  }

  async key(): Promise<{ kid: string; privateJwk: JWK }> {
    if (this.#key === undefined) {
      const made = await generateProjectKey('EdDSA');
      const record: KeyRecord = {
        kid: made.kid,
        project: this.project,
        alg: made.alg,
        publicJwk: made.publicJwk,
        createdAt: Math.floor(Date.now() / 1000),
      };
      this.#key = {
        kid: made.kid,
        privateJwk: made.privateJwk,
        record,
        key: await importPublicKey(record),
      };
    }
    return { kid: this.#key.kid, privateJwk: this.#key.privateJwk };
  }

  async token(
    group: string,
    peer: string,
    allow: readonly AllowRule[] = [{ group, peer: '*' }],
    ttl = 3600,
  ): Promise<string> {
    const { privateJwk } = await this.key();
    return mintPeerToken({
      privateKey: privateJwk,
      project: this.project,
      group,
      peer,
      allow,
      ttl,
    });
  }

  /** Deletes the key: live connections signed by it close (4401), new ones are refused. */
  deleteKey(): number {
    const kid = this.#key?.kid;
    if (kid === undefined) return 0;
    this.#deleted.add(kid);
    return this.room.closeKey(kid);
  }

  #verify(token: string): ReturnType<typeof verifyPeerToken> {
    return verifyPeerToken(token, {
      now: Date.now(),
      key: (kid) => {
        const k = this.#key;
        return Promise.resolve(
          k !== undefined && k.kid === kid && !this.#deleted.has(kid)
            ? { record: k.record, key: k.key }
            : undefined,
        );
      },
    });
  }

  /** The WebSocket class to give `createPeer`. */
  get WebSocket(): WebSocketConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the class below needs the host.
    const punch = this;
    return class FakeWebSocket implements WebSocketLike {
      readyState = 0;
      readonly #listeners = new Map<string, Set<Listener>>();
      #conn: SignalConn | undefined;
      #info: FakeSocketInfo;
      #muted = false;

      constructor(url: string, protocols: string[]) {
        const sent: string[] = [];
        this.#info = {
          url,
          protocols,
          sent,
          drop: () => {
            this.#drop();
          },
          mute: () => {
            this.#muted = true;
          },
        };
        punch.sockets.push(this.#info);
        setTimeout(() => {
          void this.#upgrade(protocols);
        }, 0);
      }

      addEventListener(type: string, listener: Listener): void {
        let set = this.#listeners.get(type);
        if (set === undefined) {
          set = new Set();
          this.#listeners.set(type, set);
        }
        set.add(listener);
      }

      send(data: string): void {
        if (this.readyState !== 1) throw new Error('not open');
        this.#info.sent.push(data);
        const conn = this.#conn;
        setTimeout(() => {
          if (conn !== undefined && this.#conn === conn) punch.room.receive(conn, data);
        }, 0);
      }

      close(code = 1000, reason = ''): void {
        if (this.readyState >= 2) return;
        this.readyState = 2;
        const conn = this.#conn;
        this.#conn = undefined;
        if (conn !== undefined) punch.room.leave(conn);
        this.#closed(code, reason);
      }

      #emit(type: string, event: unknown): void {
        for (const l of [...(this.#listeners.get(type) ?? [])]) l(event);
      }

      #closed(code: number, reason: string): void {
        setTimeout(() => {
          this.readyState = 3;
          this.#emit('close', { code, reason });
        }, 0);
      }

      #drop(): void {
        if (this.readyState >= 2) return;
        this.readyState = 2;
        const conn = this.#conn;
        this.#conn = undefined;
        if (conn !== undefined) punch.room.leave(conn);
        this.#closed(1006, '');
      }

      async #upgrade(protocols: string[]): Promise<void> {
        const status = punch.refuseWith;
        const token = protocols
          .find((p) => p.startsWith('punch.token.'))
          ?.slice('punch.token.'.length);
        let identity;
        try {
          if (status !== undefined || token === undefined) throw new Error('refused');
          identity = await punch.#verify(token);
        } catch {
          this.readyState = 3;
          // What the `ws` package reports for a refused upgrade.
          this.#emit('error', { message: `Unexpected server response: ${status ?? 401}` });
          this.#emit('close', { code: 1006, reason: '' });
          return;
        }
        if (this.readyState !== 0) return;
        const conn: SignalConn = {
          id: `c${++punch.#seq}`,
          identity,
          stun: null,
          send: (message: SignalServerMessage) => {
            const text = JSON.stringify(message);
            setTimeout(() => {
              if (!this.#muted && (this.readyState === 1 || this.readyState === 2)) {
                this.#emit('message', { data: text });
              }
            }, 0);
          },
          close: (err: PunchError) => {
            if (this.readyState >= 2) return;
            this.readyState = 2;
            this.#conn = undefined;
            punch.room.leave(conn);
            this.#closed(err.closeCode, err.code);
          },
        };
        this.#conn = conn;
        this.readyState = 1;
        this.#emit('open', {});
        punch.room.join(conn, []);
      }
    };
  }
}
