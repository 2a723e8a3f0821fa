import { describe, expect, it } from 'vitest';
import {
  AllowPolicySchema,
  AllowRuleSchema,
  IdPatternSchema,
  MAX_ALLOW_RULES,
  PeerIdSchema,
  PeerRefSchema,
  allows,
  matchId,
  type AllowRule,
} from './policy.js';

describe('matchId', () => {
  it('compares a literal pattern exactly', () => {
    expect(matchId('alice', 'alice')).toBe(true);
    expect(matchId('alice', 'alic')).toBe(false);
    expect(matchId('alice', 'alice2')).toBe(false);
    expect(matchId('alice', 'Alice')).toBe(false);
    expect(matchId('a.b', 'axb')).toBe(false); // `.` is a literal, not a regex wildcard
  });

  it("'*' alone matches any id", () => {
    expect(matchId('*', 'alice')).toBe(true);
    expect(matchId('*', 'x')).toBe(true);
    expect(matchId('*', '')).toBe(true);
    expect(matchId('*', 'a'.repeat(64))).toBe(true);
  });

  it('a trailing star matches the prefix followed by any run, the empty run included', () => {
    expect(matchId('room-*', 'room-42')).toBe(true);
    expect(matchId('room-*', 'room-')).toBe(true);
    expect(matchId('room-*', 'room')).toBe(false);
    expect(matchId('room-*', 'lobby')).toBe(false);
    expect(matchId('room-*', 'xroom-1')).toBe(false);
  });

  it('a leading star matches any run followed by the suffix', () => {
    expect(matchId('*-admin', 'ops-admin')).toBe(true);
    expect(matchId('*-admin', '-admin')).toBe(true);
    expect(matchId('*-admin', 'ops-admins')).toBe(false);
    expect(matchId('*-admin', 'admin')).toBe(false);
  });

  it('a middle star needs both the head and the tail', () => {
    expect(matchId('a*z', 'az')).toBe(true);
    expect(matchId('a*z', 'abcz')).toBe(true);
    expect(matchId('a*z', 'abc')).toBe(false);
    expect(matchId('a*z', 'bcz')).toBe(false);
    expect(matchId('a*z', 'a')).toBe(false);
    expect(matchId('a*z', 'z')).toBe(false);
  });

  it('never lets the head and the tail share characters', () => {
    // 'aba' starts with 'ab' and ends with 'ba', but only by reusing its middle 'b'.
    expect(matchId('ab*ba', 'aba')).toBe(false);
    expect(matchId('ab*ba', 'abba')).toBe(true);
    expect(matchId('ab*ba', 'abxba')).toBe(true);
    expect(matchId('a*a', 'a')).toBe(false);
    expect(matchId('a*a', 'aa')).toBe(true);
  });
});

describe('allows', () => {
  const policy: AllowRule[] = [
    { group: 'room-1', peer: '*' },
    { group: 'ops', peer: 'alice' },
  ];

  it('is true when some rule matches both group and peer', () => {
    expect(allows(policy, { group: 'room-1', peer: 'bob' })).toBe(true);
    expect(allows(policy, { group: 'ops', peer: 'alice' })).toBe(true);
  });

  it('is false when no single rule matches both parts', () => {
    // group of rule 2, peer of rule 1 would need a rule matching both
    expect(allows(policy, { group: 'ops', peer: 'bob' })).toBe(false);
    expect(allows(policy, { group: 'room-2', peer: 'alice' })).toBe(false);
  });

  it('an empty policy allows nobody', () => {
    expect(allows([], { group: 'g', peer: 'p' })).toBe(false);
  });

  it('a wildcard rule allows everybody', () => {
    expect(allows([{ group: '*', peer: '*' }], { group: 'any', peer: 'one' })).toBe(true);
  });
});

describe('PeerIdSchema', () => {
  it('accepts 1 to 64 letters, digits and . _ @ + -', () => {
    for (const id of ['a', 'Alice.B_c@d+e-f', '0', 'x'.repeat(64)]) {
      expect(PeerIdSchema.safeParse(id).success).toBe(true);
    }
  });

  it("refuses ':' (TURN usernames use it), 65 characters, empty, '*', spaces and non-ASCII", () => {
    for (const id of ['a:b', ':', 'x'.repeat(65), '', '*', 'a b', 'ñ', 'a/b']) {
      expect(PeerIdSchema.safeParse(id).success).toBe(false);
    }
  });

  it('refuses non-strings', () => {
    expect(PeerIdSchema.safeParse(42).success).toBe(false);
    expect(PeerIdSchema.safeParse(null).success).toBe(false);
  });
});

describe('IdPatternSchema', () => {
  it('accepts literals and one star anywhere', () => {
    for (const p of ['*', 'room-*', '*-admin', 'a*z', 'alice', 'x'.repeat(63) + '*']) {
      expect(IdPatternSchema.safeParse(p).success).toBe(true);
    }
  });

  it('refuses two stars, with a message saying so', () => {
    for (const p of ['**', 'a*b*', '*a*', 'room-**']) {
      const r = IdPatternSchema.safeParse(p);
      expect(r.success).toBe(false);
      expect(r.error?.issues.map((i) => i.message)).toContain('at most one * per pattern');
    }
  });

  it("refuses ':', 65 characters and empty", () => {
    for (const p of ['a:*', 'x'.repeat(65), '']) {
      expect(IdPatternSchema.safeParse(p).success).toBe(false);
    }
  });
});

describe('PeerRefSchema / AllowRuleSchema / AllowPolicySchema', () => {
  it('PeerRef is strict and takes no patterns', () => {
    expect(PeerRefSchema.parse({ group: 'g', peer: 'p' })).toEqual({ group: 'g', peer: 'p' });
    expect(PeerRefSchema.safeParse({ group: 'g', peer: 'p', x: 1 }).success).toBe(false);
    expect(PeerRefSchema.safeParse({ group: 'g', peer: '*' }).success).toBe(false);
    expect(PeerRefSchema.safeParse({ group: 'g' }).success).toBe(false);
  });

  it('AllowRule is strict and takes patterns', () => {
    expect(AllowRuleSchema.parse({ group: 'room-*', peer: '*' })).toEqual({
      group: 'room-*',
      peer: '*',
    });
    expect(AllowRuleSchema.safeParse({ group: '*', peer: '*', extra: true }).success).toBe(false);
  });

  it(`AllowPolicy holds at most ${MAX_ALLOW_RULES} rules`, () => {
    const rule = { group: '*', peer: '*' };
    expect(MAX_ALLOW_RULES).toBe(32);
    expect(AllowPolicySchema.safeParse([]).success).toBe(true);
    expect(AllowPolicySchema.safeParse(Array(32).fill(rule)).success).toBe(true);
    expect(AllowPolicySchema.safeParse(Array(33).fill(rule)).success).toBe(false);
  });
});
