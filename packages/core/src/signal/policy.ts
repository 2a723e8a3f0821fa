import { z } from 'zod';

/**
 * Peers of a project are named by (group, peer). A token's allow policy (`ap`) is a list of
 * `{group, peer}` patterns, each part either a literal id or a pattern with at most one `*`
 * (`*`, `room-*`, `*-admin`, `a*z`). A pair may talk only when each side's policy matches
 * the other.
 */

/** Group and peer ids: 1 to 64 of letters, digits and `. _ @ + -` (no `:`, which TURN uses). */
export const ID_PATTERN = /^[A-Za-z0-9._@+-]{1,64}$/;
const PATTERN = /^[A-Za-z0-9._@+*-]{1,64}$/;

export const PeerIdSchema = z.string().regex(ID_PATTERN, '1 to 64 letters, digits or . _ @ + -');

export const IdPatternSchema = z
  .string()
  .regex(PATTERN, '1 to 64 letters, digits, . _ @ + - and at most one *')
  .refine((p) => p.split('*').length <= 2, 'at most one * per pattern');

export const PeerRefSchema = z.object({ group: PeerIdSchema, peer: PeerIdSchema }).strict();
export type PeerRef = z.infer<typeof PeerRefSchema>;

export const AllowRuleSchema = z.object({ group: IdPatternSchema, peer: IdPatternSchema }).strict();
export type AllowRule = z.infer<typeof AllowRuleSchema>;

/** Most rules one token may carry (keeps tokens small and checks O(1) in practice). */
export const MAX_ALLOW_RULES = 32;
export const AllowPolicySchema = z.array(AllowRuleSchema).max(MAX_ALLOW_RULES);

/**
 * True when `id` matches `pattern` (a literal, or one `*` standing for any run of characters,
 * the empty run included).
 *
 * @example
 * matchId('room-*', 'room-42'); // true
 * matchId('room-*', 'lobby');   // false
 */
export function matchId(pattern: string, id: string): boolean {
  const star = pattern.indexOf('*');
  if (star === -1) return pattern === id;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return id.length >= head.length + tail.length && id.startsWith(head) && id.endsWith(tail);
}

/**
 * True when some rule of `policy` matches `target`.
 *
 * @example
 * allows([{ group: 'room-1', peer: '*' }], { group: 'room-1', peer: 'bob' }); // true
 */
export function allows(policy: readonly AllowRule[], target: PeerRef): boolean {
  return policy.some((r) => matchId(r.group, target.group) && matchId(r.peer, target.peer));
}
