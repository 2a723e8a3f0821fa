/**
 * A client that goes away in the middle of its request body is the client's doing: the host
 * answers nothing useful (nobody is listening) and must not log it as a server error with a
 * stack, or every flaky mobile uplink would page the operator.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from './client.js';
import { startHost, type Host } from './host.js';

let host: Host;
beforeAll(async () => {
  host = await startHost();
});
afterAll(async () => {
  await host.stop();
});

/**
 * POSTs headers announcing 100 bytes with the first 8 of them, and destroys the socket once
 * those are written: the host has a request whose body ends early.
 */
function abortMidBody(path: string): Promise<void> {
  const url = new URL(path, host.url);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': '100' },
    });
    req.write('{"name":', () => {
      req.destroy();
    });
    req.on('close', resolve);
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`answered ${res.statusCode} before the body was sent`));
    });
    // The socket error our own destroy causes is the point of the test, not a failure.
    req.on('error', () => undefined);
  });
}

/** Waits (bounded) until a log line contains `text`. */
async function logged(text: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (host.logs.some((l) => l.includes(text))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no log line with ${text}`);
}

const isError = (line: string): boolean => /"level":(?:50|60|"error"|"fatal")/.test(line);

describe('a request body cut short by the client', () => {
  it('is not logged as an error, and the host keeps serving', async () => {
    const before = host.logs.length;
    for (let i = 0; i < 3; i++) await abortMidBody('/api/session');
    // A request after the aborts, whose own log line shows the aborted ones were handled first.
    const s = await createSession(host.url, { name: 'after-abort', streams: ['cam-1'] });
    await logged(s.session);
    const errors = host.logs.slice(before).filter(isError);
    expect(errors).toEqual([]);
  });
});
