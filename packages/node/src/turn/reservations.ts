/** How long a reserved port waits for its RESERVATION-TOKEN (RFC 8656 §7.2 suggests 30 s). */
export const RESERVATION_LIFETIME_S = 30;

/**
 * Ports held for a later Allocate by EVEN-PORT with the R bit (RFC 8656 §7.2, §18.9): each
 * reservation has an 8-byte token the client presents in RESERVATION-TOKEN, and lapses (giving
 * the port back) after {@link RESERVATION_LIFETIME_S} seconds.
 */
export class Reservations {
  readonly #byToken = new Map<string, { port: number; username: string; timer: NodeJS.Timeout }>();
  /** Reservations held per username: they hold ports, so they count against a cap too. */
  readonly #perUsername = new Map<string, number>();
  readonly #release: (port: number) => void;

  constructor(release: (port: number) => void) {
    this.#release = release;
  }

  /** How many ports `username` holds in reservations right now. */
  heldBy(username: string): number {
    return this.#perUsername.get(username) ?? 0;
  }

  /** Holds `port` (already taken from the pool) for `username`; returns the token naming it. */
  reserve(port: number, username: string): Uint8Array {
    const token = crypto.getRandomValues(new Uint8Array(8));
    const key = Buffer.from(token).toString('hex');
    const timer = setTimeout(() => {
      this.#drop(key);
      this.#release(port);
    }, RESERVATION_LIFETIME_S * 1000);
    timer.unref(); // a reservation never keeps the process alive
    this.#byToken.set(key, { port, username, timer });
    this.#perUsername.set(username, this.heldBy(username) + 1);
    return token;
  }

  #drop(key: string): void {
    const held = this.#byToken.get(key);
    if (held === undefined) return;
    this.#byToken.delete(key);
    const left = this.heldBy(held.username) - 1;
    if (left > 0) this.#perUsername.set(held.username, left);
    else this.#perUsername.delete(held.username);
  }

  /** The port `token` reserved, handed over once (undefined for an unknown or lapsed token). */
  take(token: Uint8Array): number | undefined {
    const key = Buffer.from(token).toString('hex');
    const held = this.#byToken.get(key);
    if (held === undefined) return undefined;
    clearTimeout(held.timer);
    this.#drop(key);
    return held.port;
  }

  /** Gives every reserved port back (shutdown). */
  clear(): void {
    for (const { port, timer } of this.#byToken.values()) {
      clearTimeout(timer);
      this.#release(port);
    }
    this.#byToken.clear();
    this.#perUsername.clear();
  }
}
