import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';
import {
  ConnectInfo,
  CreateSessionBody,
  CreateTokenBody,
  ExtendSessionBody,
  HealthHistory,
  ProblemSchema,
  SessionCreated,
  SessionExtended,
  SessionView,
  SetTallyBody,
  TokenCreated,
} from '../wire/http.js';
import { TallySchema } from '../wire/common.js';
import {
  AddMemberBody,
  AuditView,
  CreateKeyBody,
  CreateProjectBody,
  KeyList,
  KeyView,
  ProjectDetail,
  ProjectList,
  ProjectView,
} from '../wire/projects.js';

const schemas = {
  CreateSessionBody,
  ExtendSessionBody,
  CreateTokenBody,
  SetTallyBody,
  SessionCreated,
  SessionExtended,
  SessionView,
  TokenCreated,
  ConnectInfo,
  HealthHistory,
  Tally: TallySchema,
  Problem: ProblemSchema,
  CreateProjectBody,
  AddMemberBody,
  CreateKeyBody,
  ProjectView,
  ProjectDetail,
  ProjectList,
  KeyView,
  KeyList,
  AuditView,
};

const ref = (name: keyof typeof schemas): { $ref: string } => ({
  $ref: `#/components/schemas/${name}`,
});
const json = (name: keyof typeof schemas): Record<string, unknown> => ({
  content: { 'application/json': { schema: ref(name) } },
});
const problem = (description: string): Record<string, unknown> => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
const errors = {
  '400': problem('Malformed body or parameters (ERR_BAD_REQUEST)'),
  '401': problem('No token, or one that does not authenticate for this session'),
  '403': problem('Authenticated, but the role or stream scope does not allow it'),
  '404': problem('No such session or stream'),
  '429': problem('Rate limited; see Retry-After'),
};
/** `--max-sessions` on a create; `--max-sockets`, `--max-sockets-per-ip` at an upgrade. */
const capacity = problem(
  'The server is at capacity (ERR_CAPACITY), or cannot write to its storage (ERR_STORAGE); see Retry-After',
);
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
const pathParam = (name: string): Record<string, unknown> => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
});
const projectErrors = {
  '400': problem('Malformed body (ERR_BAD_REQUEST)'),
  '401': problem('No account key, or not a live one (ERR_ACCOUNT_KEY_INVALID)'),
  '404': problem('No such project, or not a member (ERR_PROJECT_NOT_FOUND)'),
  '429': problem('Rate limited; see Retry-After'),
};
const ok = (description: string, name?: keyof typeof schemas): Record<string, unknown> => ({
  description,
  ...(name === undefined ? {} : json(name)),
});

/** The projects realm's routes (account key as bearer). */
const projectPaths = {
  '/api/projects': {
    post: {
      summary: 'Create a project; you are its first member',
      requestBody: { required: true, ...json('CreateProjectBody') },
      responses: { '201': ok('Created', 'ProjectView'), ...projectErrors },
    },
    get: {
      summary: 'The projects you are a member of',
      responses: { '200': ok('Projects', 'ProjectList'), ...projectErrors },
    },
  },
  '/api/projects/{id}': {
    parameters: idParam,
    get: {
      summary: 'A project with its members and keys',
      responses: { '200': ok('Project', 'ProjectDetail'), ...projectErrors },
    },
    delete: {
      summary: 'Delete the project, its keys and audit log; close its sockets',
      responses: { '204': ok('Deleted'), ...projectErrors },
    },
  },
  '/api/projects/{id}/members': {
    parameters: idParam,
    get: { summary: 'Members', responses: { '200': ok('Members'), ...projectErrors } },
    post: {
      summary: 'Add an account as a member',
      requestBody: { required: true, ...json('AddMemberBody') },
      responses: { '201': ok('Added'), '409': problem('A member already'), ...projectErrors },
    },
  },
  '/api/projects/{id}/members/{account}': {
    parameters: [...idParam, pathParam('account')],
    delete: {
      summary: 'Remove a member (not the last one)',
      responses: { '204': ok('Removed'), '409': problem('The last member'), ...projectErrors },
    },
  },
  '/api/projects/{id}/keys': {
    parameters: idParam,
    post: {
      summary:
        'Register a public key ({publicJwk, proof}: proof a compact JWS by its private half over {project, iat}), or have the server make a pair ({} or {alg}): the private JWK is returned this once',
      requestBody: { required: false, ...json('CreateKeyBody') },
      responses: {
        '201': ok('Registered', 'KeyView'),
        ...projectErrors,
        '400': problem(
          'Malformed body (ERR_BAD_REQUEST); a bad or missing proof, or a key registered before (ERR_KEY_REFUSED: one answer)',
        ),
      },
    },
    get: { summary: 'Keys', responses: { '200': ok('Keys', 'KeyList'), ...projectErrors } },
  },
  '/api/projects/{id}/keys/{kid}': {
    parameters: [...idParam, pathParam('kid')],
    delete: {
      summary: 'Delete a key: its tokens stop verifying and their sockets close',
      responses: { '204': ok('Deleted'), ...projectErrors },
    },
  },
  '/api/projects/{id}/jwks': {
    parameters: idParam,
    get: {
      summary: 'The public keys as a JWK Set',
      responses: { '200': ok('JWKS'), ...projectErrors },
    },
  },
  '/api/projects/{id}/audit': {
    parameters: [
      ...idParam,
      { name: 'since', in: 'query', required: false, schema: { type: 'integer' } },
      { name: 'limit', in: 'query', required: false, schema: { type: 'integer', maximum: 5000 } },
    ],
    get: {
      summary: 'Who connected and who signalled whom, newest first (no IPs, no payloads)',
      responses: { '200': ok('Events', 'AuditView'), ...projectErrors },
    },
  },
  '/api/signal': {
    get: {
      summary:
        'The signalling WebSocket (protocol punch.v1); a project peer token (JWT) as subprotocol punch.token.<jwt>',
      security: [],
      responses: {
        '101': { description: 'Switching protocols' },
        '401': problem('The peer token does not verify'),
        '426': problem('Not a WebSocket upgrade'),
        '429': problem('Rate limited; see Retry-After'),
        '503': capacity,
      },
    },
  },
};

let cached: Record<string, unknown> | undefined;

/**
 * The OpenAPI 3.1 description of the API (sessions and projects), generated from the same zod schemas that
 * validate requests.
 *
 * @example
 * const doc = buildOpenApi();
 * doc.paths['/api/session'].post.requestBody
 */
export function buildOpenApi(): Record<string, unknown> {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'Punch API',
      version: '1',
      description:
        'Sessions: create SRT sessions, hand out scoped peer tokens, read link health and set tally. Projects: accounts, projects, keys and audit for WebRTC apps.',
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A p_ session token (sessions) or a pa_ account key (projects)',
        },
      },
      schemas: Object.fromEntries(
        Object.entries(schemas).map(([k, s]) => [
          k,
          z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }),
        ]),
      ),
      'x-error-codes': ERROR_CODES,
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/session': {
        post: {
          summary: 'Create a session (anyone; rate-limited)',
          security: [],
          requestBody: { required: false, ...json('CreateSessionBody') },
          responses: {
            '201': { description: 'Created', ...json('SessionCreated') },
            '409': problem('Name taken'),
            '503': capacity,
            ...errors,
          },
        },
      },
      '/api/session/{id}': {
        parameters: idParam,
        get: {
          summary: 'Session state (admin: all streams; peer: its own)',
          responses: { '200': { description: 'State', ...json('SessionView') }, ...errors },
        },
        patch: {
          summary: 'Extend the session (admin); returns a fresh admin token',
          requestBody: { required: true, ...json('ExtendSessionBody') },
          responses: { '200': { description: 'Extended', ...json('SessionExtended') }, ...errors },
        },
        delete: {
          summary: 'Close the session and delete all its data (admin)',
          responses: { '204': { description: 'Closed' }, ...errors },
        },
      },
      '/api/session/{id}/tokens': {
        parameters: idParam,
        post: {
          summary: 'Create a peer token scoped to one stream, or null for all (admin)',
          requestBody: { required: true, ...json('CreateTokenBody') },
          responses: { '201': { description: 'Created', ...json('TokenCreated') }, ...errors },
        },
      },
      '/api/session/{id}/connect': {
        parameters: idParam,
        get: {
          summary: 'Passphrase and ready-to-paste command lines (admin)',
          responses: {
            '200': { description: 'Connection info', ...json('ConnectInfo') },
            ...errors,
          },
        },
      },
      '/api/session/{id}/tally': {
        parameters: idParam,
        put: {
          summary: 'Set tally (admin); pushed to every peer',
          requestBody: { required: true, ...json('SetTallyBody') },
          responses: { '200': { description: 'Tally', ...json('Tally') }, ...errors },
        },
      },
      '/api/session/{id}/health': {
        parameters: [
          ...idParam,
          { name: 'stream', in: 'query', required: false, schema: { type: 'string' } },
          {
            name: 'limit',
            in: 'query',
            required: false,
            schema: { type: 'integer', maximum: 3600 },
          },
        ],
        get: {
          summary: 'Health history (admin: all; peer: its own stream)',
          responses: { '200': { description: 'Samples', ...json('HealthHistory') }, ...errors },
        },
      },
      '/api/session/{id}/ws': {
        parameters: idParam,
        get: {
          summary:
            'The WebSocket (protocol punch.v1); token in Authorization or as subprotocol punch.token.<token>',
          responses: {
            '101': { description: 'Switching protocols' },
            '426': problem('Not a WebSocket upgrade'),
            '503': capacity,
            ...errors,
          },
        },
      },
      ...projectPaths,
      '/healthz': {
        get: {
          summary: 'Liveness',
          security: [],
          responses: {
            '200': { description: '{ok: true}' },
            '503': { description: '{ok: false, reason, since}: storage is failing (Node host)' },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: { '200': { description: 'text/plain' } },
        },
      },
    },
  };
  return cached;
}
