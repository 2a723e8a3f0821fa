import { ApiError, UsageError } from './usage.js';

/** A tiny client for Punch's HTTP API: JSON in, JSON out, problems become ApiError. */
export class PunchClient {
  readonly server: string;
  readonly #token: string | undefined;

  constructor(server: string, token: string | undefined) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new UsageError(
        `--server must be a URL such as http://localhost:8787 (got "${server}")`,
      );
    }
    this.server = url.origin;
    this.#token = token;
  }

  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.server + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (cause) {
      throw new Error(`cannot reach Punch at ${this.server}: is it running? (punch serve)`, {
        cause,
      });
    }
    if (res.status === 204) return undefined;
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new Error(`unexpected answer from ${this.server} (HTTP ${res.status}): not JSON`, {
        cause,
      });
    }
    if (!res.ok) {
      const p = json as { code?: unknown; detail?: unknown };
      throw new ApiError(
        res.status,
        typeof p.code === 'string' ? p.code : `HTTP_${res.status}`,
        typeof p.detail === 'string' ? p.detail : res.statusText,
      );
    }
    return json;
  }
}
