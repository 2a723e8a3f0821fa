import { randomBytes } from 'node:crypto';
import {
  encodeMessage,
  encodeSignedMessage,
  findAttribute,
  longTermKey,
  verifyIntegrity,
  type ParsedStunMessage,
  type TurnAttribute,
} from '@punch/core';
import type { Addr } from './media-path.js';

/**
 * The TURN client's requests (RFC 8489 §6, §9.2): each one signed with the long-term key once
 * the server named its realm and nonce, a 401 or 438 taken and the request sent again once, and
 * answers matched by transaction id. Over UDP a request is retransmitted (§6.2.1: the RTO
 * doubling, 6 tries); over TCP it is sent once and given up after one timeout (§6.2.2).
 */

/** A TURN error answer, or a request that got none. */
export class TurnClientError extends Error {
  /** The TURN error code (401, 403, 437, 438, 486, 508, …), or 0 when no answer came. */
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'TurnClientError';
    this.code = code;
  }
}

interface Pending {
  readonly resolve: (m: ParsedStunMessage) => void;
  readonly reject: (e: TurnClientError) => void;
  timer: NodeJS.Timeout;
}

const TRIES = 6;
const TCP_TIMEOUT_MS = 10_000;

export interface TransactionOptions {
  readonly server: Addr;
  readonly username: string;
  readonly password: string;
  /** True over TCP: no retransmission, one timeout. */
  readonly reliable: boolean;
  /** First retransmission wait over UDP (default 500 ms). */
  readonly rtoMs?: number | undefined;
  /** How long a request waits over TCP (default 10 s). */
  readonly tcpTimeoutMs?: number | undefined;
  /** Sends a request's bytes to the server. */
  readonly write: (bytes: Uint8Array) => void;
}

/** The requests of one TURN client, in flight and answered. */
export class TurnTransactions {
  readonly #o: TransactionOptions;
  readonly #pending = new Map<string, Pending>();
  #realm: string | undefined;
  #nonce: string | undefined;
  #key: Uint8Array | undefined;
  #closed = false;

  constructor(options: TransactionOptions) {
    this.#o = options;
  }

  /** An answer from the server: true when it was a request's (it is settled). */
  answer(m: ParsedStunMessage): boolean {
    if (m.class !== 'success' && m.class !== 'error') return false;
    const pending = this.#pending.get(Buffer.from(m.transactionId).toString('hex'));
    pending?.resolve(m);
    return pending !== undefined;
  }

  /** Fails every request in flight with `why` (the connection ended, the client closed). */
  rejectAll(why: string): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new TurnClientError(0, why));
    }
    this.#pending.clear();
  }

  /** No more requests: those in flight fail. */
  close(): void {
    this.#closed = true;
    this.rejectAll('closed');
  }

  /**
   * One authenticated request: the first answer to an unauthenticated one is 401 with the realm
   * and nonce (RFC 8489 §9.2.3); a 438 brings a fresh nonce. Each is taken and the request sent
   * again, once.
   */
  async request(method: number, attributes: TurnAttribute[]): Promise<ParsedStunMessage> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.#transact(method, attributes);
      if (res.class === 'success') {
        if (this.#key !== undefined && !(await verifyIntegrity(res, this.#key)))
          throw new TurnClientError(0, 'the answer failed MESSAGE-INTEGRITY');
        return res;
      }
      const error = findAttribute(res.attributes, 'ERROR-CODE');
      const code = error?.code ?? 0;
      const realm = findAttribute(res.attributes, 'REALM')?.value;
      const nonce = findAttribute(res.attributes, 'NONCE')?.value;
      const retry = attempt === 0 && (code === 401 || code === 438) && nonce !== undefined;
      if (!retry || (code === 401 && this.#key !== undefined && realm === this.#realm))
        throw new TurnClientError(code, `TURN ${code} ${error?.reason ?? ''}`.trim());
      this.#nonce = nonce;
      if (realm !== undefined && realm !== this.#realm) {
        this.#realm = realm;
        this.#key = longTermKey(this.#o.username, realm, this.#o.password);
      }
    }
  }

  /** Sends one request (signed once the realm is known), retransmitting until answered. */
  async #transact(method: number, attributes: TurnAttribute[]): Promise<ParsedStunMessage> {
    if (this.#closed) throw new TurnClientError(0, 'closed');
    const transactionId = randomBytes(12);
    const auth: TurnAttribute[] =
      this.#key === undefined || this.#realm === undefined || this.#nonce === undefined
        ? []
        : [
            { type: 'USERNAME', value: this.#o.username },
            { type: 'REALM', value: this.#realm },
            { type: 'NONCE', value: this.#nonce },
          ];
    const message = {
      method,
      class: 'request' as const,
      transactionId,
      attributes: [...attributes, ...auth],
    };
    const bytes =
      this.#key === undefined || auth.length === 0
        ? encodeMessage(message, { fingerprint: true })
        : await encodeSignedMessage(message, this.#key, { fingerprint: true });
    const id = transactionId.toString('hex');
    const { server } = this.#o;
    if (this.#o.reliable) {
      // A reliable transport: sent once, answered or given up after one timeout (§6.2.2).
      return new Promise((resolve, reject) => {
        const pending: Pending = {
          resolve: (m) => {
            clearTimeout(pending.timer);
            this.#pending.delete(id);
            resolve(m);
          },
          reject,
          timer: setTimeout(() => {
            this.#pending.delete(id);
            reject(new TurnClientError(0, `no answer from TURN ${server.ip}:${server.port} (TCP)`));
          }, this.#o.tcpTimeoutMs ?? TCP_TIMEOUT_MS),
        };
        this.#pending.set(id, pending);
        this.#o.write(bytes);
      });
    }
    return new Promise((resolve, reject) => {
      let wait = this.#o.rtoMs ?? 500;
      let tries = 0;
      // Sends now and again after each wait, doubling, until answered or out of tries.
      const sendOnce = (): NodeJS.Timeout => {
        this.#o.write(bytes);
        const timer = setTimeout(() => {
          if (++tries < TRIES) {
            pending.timer = sendOnce();
            return;
          }
          this.#pending.delete(id);
          reject(new TurnClientError(0, `no answer from TURN ${server.ip}:${server.port}`));
        }, wait);
        wait *= 2;
        return timer;
      };
      const pending: Pending = {
        resolve: (m) => {
          clearTimeout(pending.timer);
          this.#pending.delete(id);
          resolve(m);
        },
        reject,
        timer: sendOnce(),
      };
      this.#pending.set(id, pending);
    });
  }
}
