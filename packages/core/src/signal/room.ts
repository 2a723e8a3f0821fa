import { PunchError } from '../errors.js';
import { errorFields, type Logger } from '../logger.js';
import { MessageLimiter, RATE_LIMITS, type LimitSpec } from '../ratelimit.js';
import { PEER_TOKEN_SKEW, type PeerIdentity } from '../token/peer-token.js';
import { SignalDecodeError, decodeSignalClientMessage } from '../wire/signal.js';
import type { SignalCloseReason } from '../wire/signal-to-client.js';
import type { Revocations } from './revocations.js';
import type { AuditEvent, AuditOutcome } from './audit.js';
import type { SignalConn } from './conn.js';
import { SIGNAL_HANDLERS } from './handlers.js';
import type { IceServer } from './ice.js';
import { allows, type PeerRef } from './policy.js';

export interface SignalRoomDeps {
  readonly project: string;
  readonly log: Logger;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Verifies a peer token (for `token` refreshes). */
  readonly verify: (token: string) => Promise<PeerIdentity>;
  /** The ICE servers for a peer with this identity (TURN credentials end with its token). */
  readonly iceServers: (conn: SignalConn, identity: PeerIdentity) => Promise<IceServer[]>;
  readonly audit: (event: AuditEvent) => void;
  /**
   * Called for every signal with its outcome (metrics). The audit log coalesces repeats; this
   * does not, so keep it cheap: a counter, not I/O.
   */
  readonly onSignal?: (outcome: SignalOutcome) => void;
  readonly messageLimit?: LimitSpec;
  /** Called when the last peer leaves (the host may forget the room). */
  readonly onEmpty?: (room: SignalRoom) => void;
  /**
   * A `token` refresh replaced a connection's identity (later, asynchronously): a host that
   * stores identities (a Durable Object that may be evicted) stores the new one now.
   */
  readonly onIdentityChanged?: (conn: SignalConn) => void;
  /**
   * Keys deleted lately, as the host's admission sees them: a `token` refresh is an admission
   * too, and a key deleted while the refresh was being verified must not be let in.
   */
  readonly revocations: Revocations;
}

/** What became of one `signal`. */
export type SignalOutcome = Extract<
  AuditOutcome,
  'delivered' | 'refused-by-sender-policy' | 'refused-by-target-policy' | 'offline'
>;

/** One frame as received: its text (null for a binary frame) and, when known, its size in bytes. */
interface Frame {
  readonly text: string | null;
  readonly bytes: number | undefined;
}

interface ConnState {
  readonly limiter: MessageLimiter;
  /** The sender in a relayed `signal` (a refresh keeps group and peer). */
  readonly from: PeerRef;
  /** When a signal with each outcome to each target (by key) was last audited. */
  readonly audited: Map<SignalOutcome, Map<string, number>>;
  /** Frames that arrived while an async handler (a token refresh) ran: handled after it, in order. */
  queue: Frame[] | null;
}

/** Identical signal audit events (same from, to and outcome) are recorded once per minute. */
export const AUDIT_WINDOW_MS = 60_000;

const keyOf = (p: PeerRef): string => `${p.group}\n${p.peer}`;
const refOfIdentity = (i: PeerIdentity): PeerRef => ({ group: i.group, peer: i.peer });

/**
 * A project's signalling room: who is connected as (group, peer), and the relay of opaque
 * `signal` payloads between peers whose policies allow each other. Pure: the host supplies
 * sockets, the clock, token verification and the audit sink.
 *
 * @example
 * const room = new SignalRoom({ project, log, now: Date.now, verify, iceServers, audit });
 * room.join(conn, await iceServers(conn, conn.identity));
 * socket.on('message', (text) => room.receive(conn, text));
 */
export class SignalRoom {
  readonly project: string;
  readonly #deps: SignalRoomDeps;
  readonly #peers = new Map<string, SignalConn>();
  readonly #state = new Map<SignalConn, ConnState>();

  constructor(deps: SignalRoomDeps) {
    this.project = deps.project;
    this.#deps = deps;
  }

  now(): number {
    return this.#deps.now();
  }

  /** Connected peers. */
  get size(): number {
    return this.#state.size;
  }

  /**
   * Admits a verified connection and sends `welcome`. A connection already holding the same
   * (group, peer) is replaced: it gets `closed {reason: "replaced"}` and is closed, so a
   * reloading page never meets "ID taken".
   */
  join(conn: SignalConn, iceServers: IceServer[]): void {
    const id = conn.identity;
    const key = keyOf(id);
    const old = this.#peers.get(key);
    // Admit the new connection before forgetting the old one, so replacing a room's only peer
    // never makes the room look empty (onEmpty would let the host drop a room still in use).
    this.#peers.set(key, conn);
    this.#state.set(conn, {
      limiter: new MessageLimiter(this.#deps.messageLimit ?? RATE_LIMITS.message),
      from: refOfIdentity(id),
      audited: new Map(),
      queue: null,
    });
    if (old !== undefined && old !== conn) {
      this.#forget(old);
      this.#end(old, 'replaced', 'ERR_REPLACED');
      this.#audit(id, 'replaced');
    }
    conn.send({
      type: 'welcome',
      project: this.project,
      group: id.group,
      peer: id.peer,
      expiresAt: id.expiresAt,
      iceServers,
    });
    this.#audit(id, 'connected');
  }

  /**
   * Takes back a connection that was in this room before the host forgot it (a Durable Object
   * evicted while its sockets hibernated): no `welcome`, no audit, the client has had them.
   * A connection whose (group, peer) is already held stays out and is closed as replaced.
   */
  resume(conn: SignalConn): void {
    const key = keyOf(conn.identity);
    if (this.#state.has(conn)) return;
    if (this.#peers.has(key)) {
      this.#end(conn, 'replaced', 'ERR_REPLACED');
      return;
    }
    this.#peers.set(key, conn);
    this.#state.set(conn, {
      limiter: new MessageLimiter(this.#deps.messageLimit ?? RATE_LIMITS.message),
      from: refOfIdentity(conn.identity),
      audited: new Map(),
      queue: null,
    });
  }

  /**
   * When `tick` next has work, in ms: the earliest token expiry (plus the verify skew), or an
   * audit window ending (its entry can be forgotten: without it, a socket's windows would grow
   * with every target it ever signalled, on a host that ticks only when something is due).
   */
  nextTickAt(): number | undefined {
    let at: number | undefined;
    for (const [conn, st] of this.#state) {
      const t = (conn.identity.expiresAt + PEER_TOKEN_SKEW) * 1000;
      if (at === undefined || t < at) at = t;
      for (const seen of st.audited.values()) {
        // Entries are kept oldest first (see #signalled): the first one ends soonest.
        for (const first of seen.values()) {
          if (first + AUDIT_WINDOW_MS < at) at = first + AUDIT_WINDOW_MS;
          break;
        }
      }
    }
    return at;
  }

  /** The socket closed. */
  leave(conn: SignalConn): void {
    this.#forget(conn);
  }

  /**
   * One frame from `conn` (null for a binary frame). Rate-limited per connection; a refused or
   * malformed frame gets an `error` (with its `ref`) and the socket stays open; a flood closes it.
   */
  receive(conn: SignalConn, text: string | null, bytes?: number): void {
    const st = this.#state.get(conn);
    if (st === undefined) return;
    switch (st.limiter.take(this.#deps.now())) {
      case 'ok':
        break;
      case 'warn':
        this.#error(conn, new PunchError('ERR_RATE_LIMITED', 'too many messages; slow down'));
        return;
      case 'drop':
        return;
      case 'close': {
        const flood = new PunchError('ERR_RATE_LIMITED', 'message flood; disconnecting');
        this.#error(conn, flood);
        this.#forget(conn);
        conn.close(flood);
        return;
      }
    }
    const frame = { text, bytes };
    if (st.queue !== null) {
      st.queue.push(frame);
      return;
    }
    this.#handle(conn, st, frame);
  }

  #handle(conn: SignalConn, st: ConnState, frame: Frame): void {
    let ref: string | undefined;
    try {
      if (frame.text === null) throw new PunchError('ERR_BAD_REQUEST', 'send JSON text frames');
      const m = decodeSignalClientMessage(frame.text, frame.bytes);
      ref = 'ref' in m ? m.ref : undefined;
      const handler = SIGNAL_HANDLERS[m.type] as (
        room: SignalRoom,
        conn: SignalConn,
        message: typeof m,
      ) => void | Promise<void>;
      const result = handler(this, conn, m);
      if (result instanceof Promise) {
        st.queue = [];
        result
          .catch((err: unknown) => {
            this.#error(conn, err, ref);
          })
          .finally(() => {
            this.#drain(conn, st);
          });
      }
    } catch (err) {
      this.#error(conn, err, err instanceof SignalDecodeError ? err.ref : ref);
    }
  }

  #drain(conn: SignalConn, st: ConnState): void {
    const queued = st.queue ?? [];
    st.queue = null;
    while (queued.length > 0 && this.#state.has(conn)) {
      const next = queued.shift();
      if (next !== undefined) this.#handle(conn, st, next);
      // #handle may have started another async handler: what is left waits behind it.
      const pending = st.queue as Frame[] | null;
      if (pending !== null) {
        pending.push(...queued);
        return;
      }
    }
  }

  /**
   * Delivers `payload` from `conn` to `to` when both policies allow it. Refused by the sender's
   * own policy: ERR_POLICY_DENIED. Target offline or refusing the sender: one and the same
   * ERR_PEER_UNAVAILABLE, so a peer never learns the presence of someone who does not accept it.
   */
  relay(conn: SignalConn, to: PeerRef, payload: unknown): void {
    const st = this.#state.get(conn);
    if (st === undefined) return;
    const key = keyOf(to);
    if (!allows(conn.identity.allow, to)) {
      this.#signalled(st, 'refused-by-sender-policy', to, key);
      throw new PunchError('ERR_POLICY_DENIED', `your token does not allow ${to.group}/${to.peer}`);
    }
    const target = this.#peers.get(key);
    if (target === undefined || !allows(target.identity.allow, st.from)) {
      this.#signalled(st, target === undefined ? 'offline' : 'refused-by-target-policy', to, key);
      throw new PunchError(
        'ERR_PEER_UNAVAILABLE',
        `${to.group}/${to.peer} is not available to you`,
      );
    }
    target.send({ type: 'signal', from: st.from, payload });
    this.#signalled(st, 'delivered', to, key);
  }

  /**
   * Counts a signal's outcome, and audits it once per window per (sender socket, target,
   * outcome): a call's dozens of candidates are one "who signalled whom", and a flood cannot
   * flood the log. Looked up by the target key the relay already built (the hot path).
   */
  #signalled(st: ConnState, outcome: SignalOutcome, to: PeerRef, key: string): void {
    this.#deps.onSignal?.(outcome);
    const at = this.#deps.now();
    let seen = st.audited.get(outcome);
    if (seen === undefined) {
      seen = new Map();
      st.audited.set(outcome, seen);
    }
    const last = seen.get(key);
    if (last !== undefined && at - last < AUDIT_WINDOW_MS) return;
    // Re-inserted, not updated in place: the map stays in time order, so `tick` and
    // `nextTickAt` need look only at its oldest entries.
    seen.delete(key);
    seen.set(key, at);
    this.#deps.audit({
      project: this.project,
      at,
      kind: 'signal',
      from: st.from,
      to: { group: to.group, peer: to.peer },
      outcome,
    });
  }

  /**
   * Swaps in a fresh token for the same (group, peer) without closing the socket; the new
   * policy and expiry apply at once, and fresh ICE credentials go back in `refreshed`.
   */
  async refresh(conn: SignalConn, token: string): Promise<void> {
    const next = await this.#deps.verify(token);
    if (!this.#state.has(conn)) return;
    if (
      next.project !== this.project ||
      next.group !== conn.identity.group ||
      next.peer !== conn.identity.peer
    ) {
      throw new PunchError(
        'ERR_TOKEN_WRONG_PEER',
        `the new token is for ${next.group}/${next.peer}, this socket is ${conn.identity.group}/${conn.identity.peer}`,
      );
    }
    const ice = await this.#deps.iceServers(conn, next);
    if (!this.#state.has(conn)) return;
    // After the last await: `closeKey` could not see this socket under the new key yet.
    this.#deps.revocations.assertAdmissible(next, this.#deps.now());
    conn.identity = next;
    conn.send({ type: 'refreshed', expiresAt: next.expiresAt, iceServers: ice });
    this.#deps.onIdentityChanged?.(conn);
  }

  /** Closes every connection whose token was signed by `kid` (the key was deleted). */
  closeKey(kid: string): number {
    let n = 0;
    for (const conn of [...this.#state.keys()]) {
      if (conn.identity.kid !== kid) continue;
      this.#forget(conn);
      this.#end(conn, 'key-deleted', 'ERR_KEY_REVOKED');
      n++;
    }
    return n;
  }

  /** Closes every connection (the project was deleted, or the host is stopping). */
  closeAll(reason: 'project-deleted'): void {
    for (const conn of [...this.#state.keys()]) {
      this.#forget(conn);
      this.#end(conn, reason, 'ERR_PROJECT_CLOSED');
    }
  }

  /**
   * Closes connections whose token has expired (a client refreshes before that), and forgets
   * audit windows that have ended.
   */
  tick(nowMs: number): void {
    for (const st of this.#state.values()) {
      for (const seen of st.audited.values()) {
        for (const [key, at] of seen) {
          if (nowMs - at < AUDIT_WINDOW_MS) break;
          seen.delete(key);
        }
      }
    }
    for (const conn of [...this.#state.keys()]) {
      // The same 60 s of clock skew the token was verified with.
      if ((conn.identity.expiresAt + PEER_TOKEN_SKEW) * 1000 > nowMs) continue;
      this.#forget(conn);
      this.#end(conn, 'expired', 'ERR_TOKEN_EXPIRED');
    }
  }

  #end(
    conn: SignalConn,
    reason: SignalCloseReason,
    code: 'ERR_REPLACED' | 'ERR_KEY_REVOKED' | 'ERR_PROJECT_CLOSED' | 'ERR_TOKEN_EXPIRED',
  ): void {
    conn.send({ type: 'closed', reason });
    conn.close(new PunchError(code));
  }

  #forget(conn: SignalConn): void {
    if (!this.#state.delete(conn)) return;
    const key = keyOf(conn.identity);
    if (this.#peers.get(key) === conn) this.#peers.delete(key);
    if (this.#state.size === 0) this.#deps.onEmpty?.(this);
  }

  #error(conn: SignalConn, err: unknown, ref?: string): void {
    const e = err instanceof PunchError ? err : new PunchError('ERR_INTERNAL');
    if (!(err instanceof PunchError)) {
      this.#deps.log.error(
        { project: this.project, err: errorFields(err) },
        'signal handler failed',
      );
    }
    conn.send(
      ref === undefined
        ? { type: 'error', code: e.code, message: e.message }
        : { type: 'error', code: e.code, message: e.message, ref },
    );
  }

  /** A connection event (connected, replaced); signals go through #signalled. */
  #audit(from: PeerIdentity, outcome: 'connected' | 'replaced'): void {
    this.#deps.audit({
      project: this.project,
      at: this.#deps.now(),
      kind: 'connect',
      from: refOfIdentity(from),
      to: null,
      outcome,
    });
  }
}
