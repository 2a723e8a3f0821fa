#!/usr/bin/env node
// The Punch call example's server: serves the page and the SDK's browser bundle, and mints peer
// tokens for it. In a real app, /token is where you decide who may be whom (check the user's
// session first): the private key never leaves this process.
//
//   PUNCH_KEY_FILE=punch-key.json PUNCH_SERVER=http://127.0.0.1:8787 node examples/call/server.mjs
//
// Environment: PUNCH_KEY_FILE (a private JWK written by `punch key create`, required),
// PUNCH_SERVER (Punch's base URL, as the CLI reads it; default http://127.0.0.1:8787; PUNCH_URL
// is still read when PUNCH_SERVER is unset), PORT (default 8080),
// HOST (default 127.0.0.1).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { mintPeerToken } from '@punch/sdk';

const GROUP = 'demo';
const ID = /^[A-Za-z0-9._@+-]{1,64}$/;

const keyFile = process.env.PUNCH_KEY_FILE;
if (keyFile === undefined || keyFile === '') {
  console.error('Set PUNCH_KEY_FILE to a private key file written by `punch key create`.');
  process.exit(1);
}
const privateKey = JSON.parse(await readFile(keyFile, 'utf8'));
const punchUrl = (
  process.env.PUNCH_SERVER ||
  process.env.PUNCH_URL ||
  'http://127.0.0.1:8787'
).replace(/\/+$/, '');
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const bundle = fileURLToPath(import.meta.resolve('@punch/sdk/browser'));
const files = {
  '/': [here('./index.html'), 'text/html; charset=utf-8'],
  '/app.js': [here('./app.js'), 'text/javascript; charset=utf-8'],
  '/punch-sdk.js': [bundle, 'text/javascript; charset=utf-8'],
  '/punch-sdk.js.map': [`${bundle}.map`, 'application/json'],
};

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const handle = async () => {
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'GET only\n');
    if (url.pathname === '/config') {
      return send(res, 200, 'application/json', JSON.stringify({ url: punchUrl, group: GROUP }));
    }
    if (url.pathname === '/token') {
      const peer = url.searchParams.get('peer') ?? '';
      if (!ID.test(peer))
        return send(res, 400, 'text/plain', 'peer: 1-64 of A-Z a-z 0-9 . _ @ + -\n');
      const token = await mintPeerToken({
        privateKey,
        group: GROUP,
        peer,
        allow: [{ group: GROUP, peer: '*' }],
        ttl: 3600,
      });
      return send(res, 200, 'text/plain', token);
    }
    const file = files[url.pathname];
    if (file === undefined) return send(res, 404, 'text/plain', 'not found\n');
    return send(res, 200, file[1], await readFile(file[0]));
  };
  handle().catch((err) => {
    console.error(err);
    if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
    else res.destroy();
  });
});

server.listen(port, host, () => {
  const { port: bound } = server.address();
  console.log(`Call example on http://${host}:${bound}/ (Punch at ${punchUrl})`);
  console.log(
    `Open http://${host}:${bound}/?me=alice&them=bob and http://${host}:${bound}/?me=bob&them=alice`,
  );
});
