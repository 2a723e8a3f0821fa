import { z } from 'zod';
import { NAME_PATTERN } from '../names.js';

export const ROLES = ['admin', 'peer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The `p_` token payload (seed: session, role, stream, exp; DESIGN: may add iat, jti, kid).
 * `sid` binds the token to one instance of the session: a session created later under the same
 * name has another `sid`, so tokens of a closed session never open its successor.
 */
export const TokenClaimsSchema = z
  .object({
    session: z.string().regex(NAME_PATTERN),
    role: z.enum(ROLES),
    stream: z.string().regex(NAME_PATTERN).nullable(),
    exp: z.number().int().positive(),
    iat: z.number().int().nonnegative().optional(),
    sid: z
      .string()
      .regex(/^[a-z0-9]{8,40}$/)
      .optional(),
    jti: z.string().max(64).optional(),
  })
  .strict();

export type TokenClaims = z.infer<typeof TokenClaimsSchema>;
