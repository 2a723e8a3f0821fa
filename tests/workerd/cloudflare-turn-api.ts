/**
 * A local stand-in for Cloudflare Realtime TURN's credentials API, as documented in
 * https://developers.cloudflare.com/realtime/turn/generate-credentials/ :
 * - `POST /v1/turn/keys/{key id}/credentials/generate-ice-servers`, `Authorization: Bearer
 *   <key API token>`, body `{"ttl": seconds}` (at most 48 h) → 201 `{"iceServers": [{urls:
 *   [stun…]}, {urls: [turn…], username, credential}]}`;
 * - `POST /v1/turn/keys/{key id}/credentials/{username}/revoke` (same header) → 204.
 * Cloudflare's own usernames are opaque; this one mints TURN REST credentials with coturn's
 * `static-auth-secret`, so what it hands out really allocates on the coturn under test. Every
 * call is recorded. `mode` makes it fail (500) or never answer, as an outage would.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface Generated {
  readonly keyId: string;
  readonly auth: string | undefined;
  readonly ttl: number;
  readonly answer: {
    iceServers: { urls: string[]; username?: string; credential?: string }[];
  };
  /** The TURN entry's username and credential. */
  readonly username: string;
  readonly credential: string;
}

export interface Revoked {
  readonly keyId: string;
  readonly auth: string | undefined;
  readonly username: string;
}

const MAX_TTL = 48 * 3600;

export class CloudflareTurnStandIn {
  readonly generated: Generated[] = [];
  readonly revoked: Revoked[] = [];
  /** Answers refused for a wrong key id, token or body (a test that sees one has a bug). */
  readonly refused: string[] = [];
  mode: 'ok' | 'error' | 'hang' = 'ok';
  readonly #server = createServer((req, res) => {
    this.#handle(req, res);
  });
  readonly #hanging = new Set<ServerResponse>();
  readonly #keyId: string;
  readonly #token: string;
  readonly #coturn: { secret: string; port: number };
  #counter = 0;

  private constructor(keyId: string, token: string, coturn: { secret: string; port: number }) {
    this.#keyId = keyId;
    this.#token = token;
    this.#coturn = coturn;
  }

  static async start(
    keyId: string,
    token: string,
    coturn: { secret: string; port: number },
  ): Promise<CloudflareTurnStandIn> {
    const s = new CloudflareTurnStandIn(keyId, token, coturn);
    await new Promise<void>((resolve) => s.#server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  get url(): string {
    const a = this.#server.address();
    return `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
  }

  async stop(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#hanging.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.#server.close(() => {
        resolve();
      }),
    );
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      // A documented request is a few bytes; anything large is refused below.
      if (chunks.reduce((n, b) => n + b.length, 0) < 4096) chunks.push(c);
    });
    req.on('end', () => {
      this.#answer(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  }

  #answer(req: IncomingMessage, res: ServerResponse, body: string): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const auth = req.headers.authorization;
    const gen = /^\/v1\/turn\/keys\/([^/]+)\/credentials\/generate-ice-servers$/.exec(path);
    const rev = /^\/v1\/turn\/keys\/([^/]+)\/credentials\/([^/]+)\/revoke$/.exec(path);
    const keyId = decodeURIComponent((gen ?? rev)?.[1] ?? '');
    if (req.method !== 'POST' || (gen === null && rev === null)) {
      this.#refuse(res, 404, path);
      return;
    }
    if (keyId !== this.#keyId || auth !== `Bearer ${this.#token}`) {
      this.#refuse(res, 401, `${path} unauthorised`);
      return;
    }
    if (this.mode === 'hang') {
      this.#hanging.add(res);
      return;
    }
    if (this.mode === 'error') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":1000,"message":"internal error"}]}');
      return;
    }
    if (rev !== null) {
      this.revoked.push({ keyId, auth, username: decodeURIComponent(rev[2] ?? '') });
      res.writeHead(204);
      res.end();
      return;
    }
    let ttl: unknown;
    try {
      ttl = (JSON.parse(body) as { ttl?: unknown }).ttl;
    } catch {
      ttl = undefined;
    }
    if (
      req.headers['content-type'] !== 'application/json' ||
      typeof ttl !== 'number' ||
      !Number.isInteger(ttl) ||
      ttl < 1 ||
      ttl > MAX_TTL
    ) {
      this.#refuse(res, 400, `bad body ${body}`);
      return;
    }
    const username = `${Math.floor(Date.now() / 1000) + ttl}:cf-${++this.#counter}`;
    const credential = createHmac('sha1', this.#coturn.secret).update(username).digest('base64');
    const at = `127.0.0.1:${this.#coturn.port}`;
    const answer = {
      iceServers: [
        { urls: [`stun:${at}`] },
        {
          urls: [`turn:${at}?transport=udp`, `turn:${at}?transport=tcp`],
          username,
          credential,
        },
      ],
    };
    this.generated.push({ keyId, auth, ttl, answer, username, credential });
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  }

  #refuse(res: ServerResponse, status: number, why: string): void {
    this.refused.push(why);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":1000,"message":"refused"}]}');
  }
}
