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
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];

let cached: Record<string, unknown> | undefined;

/**
 * The OpenAPI 3.1 description of the sessions API, generated from the same zod schemas that
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
      title: 'Punch sessions API',
      version: '1',
      description:
        'Create SRT sessions, hand out scoped peer tokens, read link health and set tally.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A p_ session token' },
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
            ...errors,
          },
        },
      },
      '/healthz': {
        get: { summary: 'Liveness', security: [], responses: { '200': { description: 'OK' } } },
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
