import { z } from 'zod';
import { NameSchema } from './common.js';

/** Request bodies of the projects API. */

export const CreateProjectBody = z.object({ name: z.string().trim().min(1).max(64) }).strict();

export const AddMemberBody = z.object({ account: NameSchema }).strict();

/**
 * `{publicJwk, proof}` uploads a public key (`proof`: a compact JWS by its private half over
 * `{project, iat}`, DESIGN "Revocation is final"); `{}` or `{alg}` has the server generate a
 * pair. A missing proof is not refused here: the route answers it like every refused upload.
 */
export const CreateKeyBody = z
  .object({
    publicJwk: z.record(z.string(), z.unknown()).optional(),
    proof: z.string().optional(),
    alg: z.enum(['EdDSA', 'ES256']).optional(),
  })
  .strict()
  .refine((b) => !(b.publicJwk !== undefined && b.alg !== undefined), {
    message: 'give publicJwk (its algorithm follows from the key) or alg, not both',
  })
  .refine((b) => !(b.publicJwk === undefined && b.proof !== undefined), {
    message: 'a proof goes with a publicJwk (server-generated keys need none)',
  });

export const ProjectView = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.number().int(),
});

export const KeyView = z.object({
  kid: z.string(),
  alg: z.enum(['EdDSA', 'ES256']),
  createdAt: z.number().int(),
});

export const ProjectDetail = ProjectView.extend({
  members: z.array(z.string()),
  keys: z.array(KeyView),
});

export const ProjectList = z.object({ projects: z.array(ProjectView) });
export const KeyList = z.object({ keys: z.array(KeyView) });

export const AuditView = z.object({
  project: z.string(),
  events: z.array(
    z.object({
      at: z.number(),
      kind: z.enum(['connect', 'signal']),
      from: z.object({ group: z.string(), peer: z.string() }),
      to: z.object({ group: z.string(), peer: z.string() }).nullable(),
      outcome: z.string(),
    }),
  ),
});
