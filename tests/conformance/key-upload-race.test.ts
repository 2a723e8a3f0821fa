/**
 * A key upload racing its project's deletion: the upload answers 201 (it won) or 404 (the
 * project is gone), never 500, and the project is gone afterwards either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, codeOf } from './client.js';
import { startHost, type Host } from './host.js';
import { newAccount, newProject, type Account } from './projects-client.js';

let host: Host;
let ada: Account;
beforeAll(async () => {
  host = await startHost();
  ada = await newAccount(host, 'ada');
});
afterAll(async () => {
  await host.stop();
});

const ROUNDS = 15;

describe('POST /api/projects/:id/keys racing DELETE /api/projects/:id', () => {
  it(`answers 201 or 404, never 500, over ${ROUNDS} rounds`, async () => {
    const before = host.logs.length;
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const project = await newProject(host.url, ada, `race-${round}`);
      const path = `/api/projects/${project}`;
      // Server-generated keys: the upload spends a while making the key pair after its
      // membership check, which is where the deletion lands.
      const [upload, deletion] = await Promise.all([
        call(host.url, 'POST', `${path}/keys`, { token: ada.key, body: { alg: 'EdDSA' } }),
        call(host.url, 'DELETE', path, { token: ada.key }),
      ]);
      outcomes.push(`${upload.status} ${codeOf(upload) ?? ''}`.trim());
      expect(deletion.status).toBe(204);
      expect(['201', '404 ERR_PROJECT_NOT_FOUND']).toContain(outcomes.at(-1));
      expect((await call(host.url, 'GET', path, { token: ada.key })).status).toBe(404);
    }
    expect(host.logs.slice(before).filter((l) => /"level":(?:50|"error")/.test(l))).toEqual([]);
  });
});
