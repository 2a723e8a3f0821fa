/** Built-in TLS (`--tls-cert`, `--tls-key`): the API on HTTPS, the WebSocket on WSS, links in https. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHost, type Host } from '../conformance/host.js';

let host: Host;
let ca: Buffer;
let base: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'punch-tls-'));
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync(
    'openssl',
    [
      ...[
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
      ],
      ...[
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
    ],
    { stdio: 'ignore' },
  );
  ca = readFileSync(cert);
  host = await startHost({ extraArgs: ['--tls-cert', cert, '--tls-key', key] });
  base = host.url.replace(/^http:/, 'https:');
});
afterAll(async () => {
  await host.stop();
  rmSync(dir, { recursive: true, force: true });
});

function post(path: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', ca }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

it('serves the API over HTTPS, and its links and WebSocket URL say https and wss', async () => {
  const r = await post('/api/session');
  expect(r.status).toBe(201);
  const created = r.json as { session: string; token: string; urls: { api: string; ws: string } };
  expect(created.urls.api).toBe(`${base}/api/session/${created.session}`);
  expect(created.urls.ws).toBe(
    `${base.replace('https:', 'wss:')}/api/session/${created.session}/ws`,
  );
  const ws = new WebSocket(created.urls.ws, ['punch.v1'], {
    ca,
    headers: { authorization: `Bearer ${created.token}` },
  });
  const welcome = await new Promise<{ type: string }>((resolve, reject) => {
    ws.once('message', (d: Buffer) => {
      resolve(JSON.parse(d.toString('utf8')) as { type: string });
    });
    ws.once('error', reject);
  });
  expect(welcome.type).toBe('welcome');
  ws.close();
});

it('refuses plain HTTP on the TLS port', async () => {
  const plain = await fetch(`${host.url}/healthz`).then(
    (res) => res.status,
    () => 'refused',
  );
  expect(plain).not.toBe(200);
});
