import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PunchClient } from '../client.js';
import { ApiError } from '../usage.js';
import { TallyWriter, sourceName, type TallyBody, type WriterEvent } from './writer.js';

/** A Punch stand-in on loopback that records each PUT body and answers as `answer` says. */
async function punch(answer: (n: number, res: ServerResponse) => void) {
  const bodies: unknown[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      answer(bodies.length, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(server);
  return { bodies, client: new PunchClient(url, 'p_x') };
}
const servers: ReturnType<typeof createServer>[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

const ok = (res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"program":[],"preview":[]}');
};

/** The writer's events, with a wait for the next one of a type. */
class Log {
  readonly events: WriterEvent[] = [];
  #waiters: { type: WriterEvent['type']; resolve: (e: WriterEvent) => void }[] = [];

  readonly push = (e: WriterEvent): void => {
    this.events.push(e);
    const i = this.#waiters.findIndex((w) => w.type === e.type);
    if (i >= 0) this.#waiters.splice(i, 1)[0]?.resolve(e);
  };

  next(type: WriterEvent['type']): Promise<WriterEvent> {
    return new Promise((resolve) => {
      this.#waiters.push({ type, resolve });
    });
  }
}

const SOURCE = 'vMix at 10.0.0.5:8099';

describe('sourceName', () => {
  it('keeps a label Punch accepts, and makes any other one fit', () => {
    expect(sourceName(SOURCE)).toBe(SOURCE);
    expect(sourceName('TSL 5.0 on udp [::1]:8900')).toBe('TSL 5.0 on udp [::1]:8900');
    expect(sourceName(' vMix\tat\u202E  evil\n')).toBe('vMix at evil');
    const long = sourceName(`OBS at ${'a'.repeat(100)}.example:4455`);
    expect(long).toHaveLength(80);
    expect(long?.endsWith('a…')).toBe(true);
    expect(sourceName('\u0000\u0007 ')).toBeUndefined();
  });
});

describe('TallyWriter', () => {
  it('sets tally only on change, and the newest wish wins over those queued behind a request', async () => {
    // The first answer is held until the test has queued two more wishes behind it.
    let held: (res: ServerResponse) => void = () => undefined;
    const firstArrived = new Promise<ServerResponse>((resolve) => {
      held = resolve;
    });
    const p = await punch((n, res) => {
      if (n === 1) held(res);
      else ok(res);
    });
    const c = new Log();
    const w = new TallyWriter(() => p.client, 'show', SOURCE, c.push);
    w.want({ program: ['cam-a'], preview: [] }, performance.now());
    const first = c.next('set');
    w.want({ program: ['cam-b'], preview: [] }, performance.now());
    w.want({ program: ['cam-c'], preview: ['cam-a'] }, performance.now());
    ok(await firstArrived);
    await first;
    await c.next('set');
    // The same tally again (in another order): nothing sent.
    w.want({ program: ['cam-c'], preview: ['cam-a'] }, performance.now());
    w.want({ preview: ['cam-a'], program: ['cam-c'] }, performance.now());
    w.want({ program: [], preview: [] }, performance.now());
    await c.next('set');
    // Each names the switcher, for the dashboard's "Tally from …".
    expect(p.bodies).toEqual([
      { program: ['cam-a'], preview: [], source: SOURCE },
      { program: ['cam-c'], preview: ['cam-a'], source: SOURCE },
      { program: [], preview: [], source: SOURCE },
    ]);
    w.stop();
  });

  it('retries while Punch fails, and stops when Punch refuses', async () => {
    const p = await punch((n, res) => {
      if (n === 1)
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"ERR_CAPACITY"}');
      else if (n === 2) ok(res);
      else
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"code":"ERR_SESSION_NOT_FOUND","detail":"gone"}');
    });
    const c = new Log();
    const w = new TallyWriter(() => p.client, 'show', SOURCE, c.push);
    w.want({ program: ['cam-a'], preview: [] }, performance.now());
    expect(await c.next('retrying')).toMatchObject({ reason: 'Punch answered 503 ERR_CAPACITY' });
    await c.next('set');
    w.want({ program: ['cam-b'], preview: [] }, performance.now());
    const refused = await c.next('refused');
    expect(refused.type === 'refused' && refused.error.code).toBe('ERR_SESSION_NOT_FOUND');
    // Stopped: later wishes send nothing.
    w.want({ program: [], preview: [] }, performance.now());
    expect(p.bodies).toHaveLength(3);
  });

  it('sets over the session socket while it answers; PUT when it is down or silent', async () => {
    const p = await punch((_n, res) => {
      ok(res);
    });
    const overSocket: TallyBody[] = [];
    // Answers the first set, is closed for the second, silent for the third.
    const answers = [
      () => Promise.resolve(),
      () => undefined,
      () => Promise.reject(new Error('no answer over the session socket in 3000 ms')),
    ];
    const socket = {
      set: (body: TallyBody) => {
        overSocket.push(body);
        return answers[overSocket.length - 1]?.();
      },
    };
    const c = new Log();
    const w = new TallyWriter(() => p.client, 'show', SOURCE, c.push, socket);
    for (const program of [['cam-a'], ['cam-b'], ['cam-c']]) {
      const set = c.next('set');
      w.want({ program, preview: [] }, performance.now());
      await set;
    }
    expect(overSocket.map((b) => b.program)).toEqual([['cam-a'], ['cam-b'], ['cam-c']]);
    expect(overSocket[0]).toEqual({ program: ['cam-a'], preview: [], source: SOURCE });
    // Only the two the socket could not carry went by PUT.
    expect(p.bodies.map((b) => (b as TallyBody).program)).toEqual([['cam-b'], ['cam-c']]);
    w.stop();
  });

  it("Punch's refusal over the socket is an answer: no PUT after it", async () => {
    const p = await punch((_n, res) => {
      ok(res);
    });
    const socket = {
      set: () => Promise.reject(new ApiError(404, 'ERR_STREAM_UNKNOWN', 'no stream "cam-a"')),
    };
    const c = new Log();
    const w = new TallyWriter(() => p.client, 'show', SOURCE, c.push, socket);
    w.want({ program: ['cam-a'], preview: [] }, performance.now());
    const refused = await c.next('refused');
    expect(refused.type === 'refused' && refused.error.code).toBe('ERR_STREAM_UNKNOWN');
    expect(p.bodies).toEqual([]);
  });
});
