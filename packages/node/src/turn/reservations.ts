/** How long a reserved port waits for its RESERVATION-TOKEN (RFC 8656 §7.2 suggests 30 s). */
export const RESERVATION_LIFETIME_S = 30;

/**
 * Ports held for a later Allocate by EVEN-PORT with the R bit (RFC 8656 §7.2, §18.9): each
 * reservation has an 8-byte token the client presents in RESERVATION-TOKEN, and lapses (giving
 * the port back) after {@link RESERVATION_LIFETIME_S} seconds.
 */
export class Reservations {
  readonly #byToken = new Map<string, { port: number; timer: NodeJS.Timeout }>();
  readonly #release: (port: number) => void;

  constructor(release: (port: number) => void) {
    this.#release = release;
  }

  /** Holds `port` (already taken from the pool); resolves to the token naming it. */
  reserve(port: number): Uint8Array {
    const token = crypto.getRandomValues(new Uint8Array(8));
    const key = Buffer.from(token).toString('hex');
    const timer = setTimeout(() => {
      this.#byToken.delete(key);
      this.#release(port);
    }, RESERVATION_LIFETIME_S * 1000);
    timer.unref(); // a reservation never keeps the process alive
    this.#byToken.set(key, { port, timer });
    return token;
  }

  /** The port `token` reserved, handed over once (undefined for an unknown or lapsed token). */
  take(token: Uint8Array): number | undefined {
    const key = Buffer.from(token).toString('hex');
    const held = this.#byToken.get(key);
    if (held === undefined) return undefined;
    clearTimeout(held.timer);
    this.#byToken.delete(key);
    return held.port;
  }

  /** Gives every reserved port back (shutdown). */
  clear(): void {
    for (const { port, timer } of this.#byToken.values()) {
      clearTimeout(timer);
      this.#release(port);
    }
    this.#byToken.clear();
  }
}
