/** The `punch` admin commands against a running host, as a producer would type them. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jsqr from 'jsqr';
import { startHost, type Host } from '../conformance/host.js';
import { call } from '../conformance/client.js';

// jsqr's typings declare a default export that its CommonJS build exposes as `.default`.
const jsQR = jsqr.default;
const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));

let host: Host;
beforeAll(async () => {
  host = await startHost();
});
afterAll(async () => {
  await host.stop();
});

function punch(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      // A command that hangs is killed (and the test fails on its exit code), never left running.
      { env: { ...process.env, PUNCH_SERVER: host.url, PUNCH_TOKEN: '', ...env }, timeout: 20_000 },
      (err, stdout, stderr) => {
        // -1: killed by the timeout (it hung), never mistaken for an exit code.
        const code =
          err === null ? 0 : err.killed ? -1 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Reads the half-block QR code `punch token` prints back into pixels and decodes it. */
function decodeTerminalQr(text: string): string | undefined {
  const rows = text.split('\n').filter((l) => /^[ ▀▄█]+$/.test(l));
  const width = Math.max(...rows.map((r) => Array.from(r).length));
  const modules: boolean[][] = [];
  for (const row of rows) {
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (const ch of Array.from(row.padEnd(width))) {
      // Light modules are printed as blocks (so the code scans on a dark terminal).
      top.push(!(ch === '█' || ch === '▀'));
      bottom.push(!(ch === '█' || ch === '▄'));
    }
    modules.push(top, bottom);
  }
  const scale = 4;
  const size = modules.length * scale;
  const w = width * scale;
  const data = new Uint8ClampedArray(w * size * 4).fill(255);
  modules.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++)
          data.fill(
            0,
            ((y * scale + dy) * w + x * scale + dx) * 4,
            ((y * scale + dy) * w + x * scale + dx) * 4 + 3,
          );
    });
  });
  return jsQR(data, w, size)?.data;
}

describe('punch admin commands', () => {
  it('creates a session, hands out a token with a scannable QR code, sets tally, shows and closes', async () => {
    const created = await punch([
      'session',
      'create',
      '--name',
      'cli-show',
      '--streams',
      'cam-wide,cam-close',
      '--ttl',
      '30m',
      '--json',
    ]);
    expect(created.code).toBe(0);
    const s = JSON.parse(created.stdout) as { session: string; token: string; streams: string[] };
    expect(s).toMatchObject({ session: 'cli-show', streams: ['cam-wide', 'cam-close'] });
    const env = { PUNCH_TOKEN: s.token };

    const human = await punch(['session', 'create', '--streams', 'a1']);
    expect(human.stdout).toMatch(/export PUNCH_TOKEN=p_/);
    expect(human.stdout).toMatch(new RegExp(`Dashboard: ${host.url}/session/[a-z0-9-]+#t=p_`));

    const token = await punch(['token', '--stream', 'cam-wide'], env);
    expect(token.code).toBe(0);
    const link = /Link: +(\S+)/.exec(token.stdout)?.[1];
    expect(link).toMatch(new RegExp(`^${host.url}/s/cli-show\\?t=p_`));
    expect(decodeTerminalQr(token.stdout)).toBe(link);

    const tally = await punch(['tally', '--program', 'cam-wide', '--preview', 'cam-close'], env);
    expect(tally.stdout).toContain('ON AIR: cam-wide');
    const state = await call(host.url, 'GET', '/api/session/cli-show', { token: s.token });
    expect(state.json).toMatchObject({ tally: { program: ['cam-wide'], preview: ['cam-close'] } });

    const show = await punch(['session', 'show'], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/cam-wide\s+idle\s+not connected\s+not connected\s+ON AIR/);
    expect(show.stdout).toMatch(/cam-close\s+idle\s+not connected\s+not connected\s+PREVIEW/);

    const connect = await punch(['session', 'connect', '--json'], env);
    expect((JSON.parse(connect.stdout) as { passphrase: string }).passphrase).toMatch(
      /^[A-Za-z0-9]{32}$/,
    );
    // Human: each stream's own passphrase alone on its line under a label, tools by name.
    const info = JSON.parse(connect.stdout) as {
      streams: { name: string; passphrase: string; commands: Record<string, string> }[];
    };
    const lines = (await punch(['session', 'connect'], env)).stdout.split('\n');
    for (const st of info.streams) {
      const at = lines.indexOf(`Stream ${st.name}`);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(lines[at + 1]).toMatch(/^ {2}SRT passphrase/);
      expect(lines[at + 2]).toBe(`    ${st.passphrase}`);
      const gst = lines.indexOf('  GStreamer → agent (send):', at);
      expect(gst).toBeGreaterThan(at);
      expect(lines[gst + 1]).toBe(`    ${st.commands['gstreamer-send']!}`);
    }
    expect(info.streams[0]!.passphrase).not.toBe(info.streams[1]!.passphrase);
    expect(lines).toContain('  ffmpeg → agent (send):');
    // The punch peer lines never run with the shell's PUNCH_TOKEN (the admin token here, which
    // would take a live slot over): a LINK placeholder, and how to get that link.
    const at = lines.indexOf('Stream cam-close');
    expect(lines.slice(at)).toContain("    punch peer 'LINK' --send");
    const receive = lines.indexOf("    punch peer 'LINK' --receive", at);
    expect(receive).toBeGreaterThan(at);
    expect(lines[receive + 1]).toBe(
      '  LINK: the operator link of cam-close, from `punch token --stream cam-close`',
    );
    expect(lines.join('\n')).not.toContain('PUNCH_TOKEN');
    expect(lines.join('\n')).not.toMatch(/^ {2}ffmpeg-send:/m);

    const before = (
      (await call(host.url, 'GET', '/api/session/cli-show', { token: s.token })).json as {
        expiresAt: number;
      }
    ).expiresAt;
    const extend = await punch(['session', 'extend', '--ttl', '2h'], env);
    expect(extend.stdout).toMatch(/export PUNCH_TOKEN=p_/);
    // The new producer link, built as the dashboard builds it, carries the new token; the old
    // one is said to stop at the old end (30 min from the start, local time with its zone).
    const fresh = /export PUNCH_TOKEN=(\S+)/.exec(extend.stdout)?.[1];
    expect(extend.stdout).toContain(`Dashboard: ${host.url}/session/cli-show#t=${fresh!}`);
    expect(extend.stdout).toMatch(
      /old admin token and dashboard link stop working \w{3}, \d+ \w{3} \d{4}, \d\d:\d\d \S+ \(in (29|30) min/,
    );
    // Local time with its zone, and how far off it is.
    expect(extend.stdout).toMatch(
      /now ends \w{3}, \d+ \w{3} \d{4}, \d\d:\d\d \S+ \(in (1 h 59|2 h 0) min\)/,
    );
    const afterTtl = (
      (await call(host.url, 'GET', '/api/session/cli-show', { token: s.token })).json as {
        expiresAt: number;
      }
    ).expiresAt;
    expect(afterTtl).toBeGreaterThan(before);
    // --by adds to the current end, whatever it is.
    const by = await punch(['session', 'extend', '--by', '1h', '--json'], env);
    expect(by.code).toBe(0);
    expect((JSON.parse(by.stdout) as { expiresAt: number }).expiresAt).toBe(afterTtl + 3600);
    // --ttl asking for less than is left does not shorten it.
    const shorter = await punch(['session', 'extend', '--ttl', '10m', '--json'], env);
    expect((JSON.parse(shorter.stdout) as { expiresAt: number }).expiresAt).toBe(afterTtl + 3600);
    // A duration without its unit is refused, naming the units.
    const bare = await punch(['session', 'extend', '--ttl', '90'], env);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('90s, 30m, 24h or 7d');

    const close = await punch(['session', 'close', 'cli-show'], env);
    expect(close.code).toBe(0);
    expect((await call(host.url, 'GET', '/api/session/cli-show', { token: s.token })).status).toBe(
      404,
    );
  });

  it('says clearly what went wrong, with distinct exit codes', async () => {
    const created = JSON.parse((await punch(['session', 'create', '--json'])).stdout) as {
      session: string;
      token: string;
    };
    // Two other characters at the end of the tag (never the same two: that would be no forgery).
    const forged = `${created.token.slice(0, -2)}${created.token.endsWith('AA') ? 'BA' : 'AA'}`;
    const refused = await punch(['session', 'show'], { PUNCH_TOKEN: forged });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('ERR_TOKEN_SIGNATURE');

    const missing = await punch(['session', 'show', 'no-such-session'], {
      PUNCH_TOKEN: created.token,
    });
    expect(missing.code).toBe(3); // the token is for another session
    expect(missing.stderr).toContain('ERR_TOKEN_WRONG_SESSION');

    const noToken = await punch(['session', 'show']);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('PUNCH_TOKEN');

    const usage = await punch(['token'], { PUNCH_TOKEN: created.token });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--stream');

    const unknown = await punch(['session', 'create', '--colour', 'red']);
    expect(unknown.code).toBe(2);

    const down = await punch(['session', 'create'], { PUNCH_SERVER: 'http://127.0.0.1:9' });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach Punch');
  });

  it('punch serve on a port that is taken says so and exits, instead of hanging', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    const dir = mkdtempSync(join(tmpdir(), 'punch-cli-'));
    try {
      // The STUN socket binds first (port 0: any free one); the HTTP port then fails.
      const r = await punch(
        [
          'serve',
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--stun-port',
          '0',
          '--data-dir',
          dir,
        ],
        { PUNCH_SECRET: 'cli-test-secret-0123456789abcdef0123' },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${port} is already in use`);
    } finally {
      taken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
