/**
 * Group and peer ids, and the allow patterns of a peer token, as Punch checks them
 * (`packages/core/src/signal/policy.ts`): checked here too so a mistake fails where it is made.
 */

/** A peer of a project: (group, peer). */
export interface PeerRef {
  readonly group: string;
  readonly peer: string;
}

/** One rule of a token's allow policy: each part a literal id or a pattern with one `*`. */
export interface AllowRule {
  readonly group: string;
  readonly peer: string;
}

/** Group and peer ids: 1 to 64 of letters, digits and `. _ @ + -`. */
export const ID_PATTERN = /^[A-Za-z0-9._@+-]{1,64}$/;
const RULE_PATTERN = /^[A-Za-z0-9._@+*-]{1,64}$/;

/** Most rules one token may carry. */
export const MAX_ALLOW_RULES = 32;

/**
 * True when `value` is a valid group or peer id.
 *
 * @example
 * isId('alice@example.com'); // true
 * isId('a b');               // false
 */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * Throws a TypeError naming `what` unless `value` is a valid id.
 *
 * @example
 * checkId('peer', 'alice'); // ok
 * checkId('peer', 'a/b');   // TypeError: peer must be 1 to 64 letters, digits or . _ @ + - (got "a/b")
 */
export function checkId(what: string, value: unknown): string {
  if (!isId(value)) {
    throw new TypeError(
      `${what} must be 1 to 64 letters, digits or . _ @ + - (got ${JSON.stringify(value) ?? String(value)})`,
    );
  }
  return value;
}

/**
 * Throws a TypeError unless `value` is an allow pattern: an id, or an id with one `*`.
 *
 * @example
 * checkPattern('allow[0].peer', 'room-*'); // ok
 * checkPattern('allow[0].peer', '*a*');    // TypeError: at most one *
 */
export function checkPattern(what: string, value: unknown): string {
  if (typeof value !== 'string' || !RULE_PATTERN.test(value)) {
    throw new TypeError(
      `${what} must be 1 to 64 letters, digits, . _ @ + - and at most one * (got ${JSON.stringify(value) ?? String(value)})`,
    );
  }
  if (value.split('*').length > 2) {
    throw new TypeError(`${what} may hold at most one * (got ${JSON.stringify(value)})`);
  }
  return value;
}

/**
 * The key a peer is known by: `group/peer` (`/` is not an id character, so it is unambiguous).
 *
 * @example
 * peerKey({ group: 'room-1', peer: 'bob' }); // 'room-1/bob'
 */
export function peerKey(p: PeerRef): string {
  return `${p.group}/${p.peer}`;
}
