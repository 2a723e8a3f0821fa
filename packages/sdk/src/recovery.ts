/**
 * When and how a session tries to revive a broken connection. A peer id may come back as a new
 * page (a reload) that knows nothing of the old call, so only the caller (the side that made
 * the call) acts; the callee waits for it:
 * - caller, `failed` or `disconnected` for longer than `disconnectedGraceMs`: try, wait, try
 *   again: 1 s, 2 s, 4 s… (`restartFirstMs` doubled), `restartTries` tries, then give up. A try
 *   is an ICE restart on the current call, or a fresh call (new RTCPeerConnection, new call id,
 *   initial offer) when the current one cannot be restarted: never answered, or closed;
 * - caller, the remote closed its connection (DTLS close_notify, as a closing page sends) or
 *   answered `reset` (it does not know our call): a fresh call at once, then the same backoff;
 * - callee: `failed` for `calleeFailedMs` without the caller reviving it, or the remote closed
 *   its connection: the session ends.
 * Pure timing logic: the session supplies the actions.
 */

/** Recovery timings (defaults in brackets). */
export interface RecoveryOptions {
  /** Tries before giving up [5]. */
  readonly restartTries: number;
  /** Wait after the first try, doubled after each [1000 ms]. */
  readonly restartFirstMs: number;
  /** How long `disconnected` may last before the first try [2000 ms]. */
  readonly disconnectedGraceMs: number;
  /** How long a callee keeps a failed connection for the caller to revive [30 000 ms]. */
  readonly calleeFailedMs: number;
}

export const DEFAULT_RECOVERY: RecoveryOptions = {
  restartTries: 5,
  restartFirstMs: 1000,
  disconnectedGraceMs: 2000,
  calleeFailedMs: 30_000,
};

/** Why a caller starts a fresh call. */
export type FreshReason = 'reset' | 'closed' | 'retry';

export interface RecoveryActions {
  /** The current connection state is `connected`. */
  connected(): boolean;
  /** The current call was answered and its connection is not closed: ICE can be restarted. */
  restartable(): boolean;
  restartIce(): void;
  freshCall(reason: FreshReason): void;
  /** Recovery is over: end the session. */
  giveUp(reason: 'failed' | 'remote'): void;
}

type Timer = ReturnType<typeof setTimeout> | undefined;

/**
 * @example
 * const recovery = new Recovery(DEFAULT_RECOVERY, actions);
 * pc.addEventListener('connectionstatechange', () => recovery.onState(pc.connectionState, true));
 */
export class Recovery {
  readonly #o: RecoveryOptions;
  readonly #act: RecoveryActions;
  #tries = 0;
  #loop: Timer;
  #grace: Timer;
  #fail: Timer;

  constructor(options: RecoveryOptions, actions: RecoveryActions) {
    this.#o = options;
    this.#act = actions;
  }

  /** True while tries are under way (the remote being unavailable is then expected). */
  get active(): boolean {
    return this.#loop !== undefined;
  }

  /** Tries made since the connection was last up. */
  get tries(): number {
    return this.#tries;
  }

  /** The current call's connection state changed. */
  onState(state: RTCPeerConnectionState, caller: boolean): void {
    if (state === 'connected') {
      this.cancel();
      return;
    }
    if (!caller) {
      if (state === 'failed' && this.#fail === undefined) {
        this.#fail = setTimeout(() => {
          this.#fail = undefined;
          if (!this.#act.connected()) this.#act.giveUp('failed');
        }, this.#o.calleeFailedMs);
      }
      return;
    }
    if (state === 'failed') {
      this.#start(false, 'retry');
    } else if (state === 'disconnected' && this.#grace === undefined && this.#loop === undefined) {
      this.#grace = setTimeout(() => {
        this.#grace = undefined;
        if (!this.#act.connected()) this.#start(false, 'retry');
      }, this.#o.disconnectedGraceMs);
    }
  }

  /** The remote closed its connection (or ours closed under us). */
  onRemoteClosed(caller: boolean): void {
    if (caller) this.#start(true, 'closed');
    else this.#act.giveUp('remote');
  }

  /** The remote does not know our call (only a caller is told so). */
  onReset(): void {
    this.#start(true, 'reset');
  }

  /** Stops every timer and forgets past tries (connected again, or the session ended). */
  cancel(): void {
    clearTimeout(this.#loop);
    clearTimeout(this.#grace);
    clearTimeout(this.#fail);
    this.#loop = undefined;
    this.#grace = undefined;
    this.#fail = undefined;
    this.#tries = 0;
  }

  #start(fresh: boolean, reason: FreshReason): void {
    // A running backoff is not hurried by more bad news, except news that only a fresh call
    // can answer (the remote reloaded): that try is made now.
    if (this.#loop !== undefined && !fresh) return;
    clearTimeout(this.#loop);
    clearTimeout(this.#grace);
    this.#loop = undefined;
    this.#grace = undefined;
    this.#try(fresh, reason);
  }

  #try(fresh: boolean, reason: FreshReason): void {
    this.#loop = undefined;
    if (!fresh && this.#act.connected()) {
      this.#tries = 0;
      return;
    }
    if (this.#tries >= this.#o.restartTries) {
      this.#act.giveUp('failed');
      return;
    }
    const delay = this.#o.restartFirstMs * 2 ** this.#tries;
    this.#tries++;
    if (fresh || !this.#act.restartable()) this.#act.freshCall(fresh ? reason : 'retry');
    else this.#act.restartIce();
    this.#loop = setTimeout(() => {
      this.#try(false, 'retry');
    }, delay);
  }
}
