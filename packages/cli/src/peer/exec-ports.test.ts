import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ExecPortBusy, assertExecPortsFree, execBinds, uriBind } from './exec-ports.js';
import { parsePeerOptions } from './options.js';
import { streamOptions } from './stream-options.js';

describe('uriBind', () => {
  it('finds the port srt-live-transmit binds: SRT listeners, rendezvous, UDP inputs', () => {
    expect(uriBind('srt://:9000', 'input')).toEqual({ host: '', port: 9000 });
    expect(uriBind('srt://127.0.0.1:9100?mode=listener&passphrase=x', 'input')).toEqual({
      host: '127.0.0.1',
      port: 9100,
    });
    expect(uriBind('srt://10.0.0.2:9000?mode=rendezvous', 'output')).toEqual({
      host: '',
      port: 9000,
    });
    expect(uriBind('udp://127.0.0.1:5000', 'input')).toEqual({ host: '127.0.0.1', port: 5000 });
    expect(uriBind('udp://@239.1.1.1:5000', 'input')).toEqual({ host: '', port: 5000 });
    expect(uriBind('srt://[::1]:9000?mode=listener', 'output')).toEqual({
      host: '::1',
      port: 9000,
    });
  });

  it('finds none where it binds no fixed port, and for what it cannot read', () => {
    expect(uriBind('srt://10.0.0.2:9000', 'output')).toBeUndefined();
    expect(uriBind('srt://10.0.0.2:9000?mode=caller', 'output')).toBeUndefined();
    expect(uriBind('udp://127.0.0.1:5000', 'output')).toBeUndefined();
    expect(uriBind('file://con', 'output')).toBeUndefined();
    expect(uriBind('srt://:99999', 'input')).toBeUndefined();
    expect(uriBind('', 'input')).toBeUndefined();
  });
});

const claims = { session: 'nab-floor', role: 'peer', stream: 'cam-1', exp: 4_000_000_000 };
const TOKEN = `p_${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${'A'.repeat(43)}`;
/** One stream's options, as the agent derives them for stream 0 of the session. */
const opts = (args: string[]) => {
  const o = parsePeerOptions(['--server', 'http://127.0.0.1:9', '--token', TOKEN, ...args], {});
  return streamOptions(o, o.stream ?? 'cam-wide', 0);
};

describe('execBinds', () => {
  it('sending: the --exec input; receiving: the listener at --srt-target and the --exec output', () => {
    expect(execBinds(opts(['--send', '--exec', 'udp://127.0.0.1:5000']))).toEqual([
      { host: '127.0.0.1', port: 5000, flag: '--exec' },
    ]);
    expect(
      execBinds(opts(['--receive', '--srt-target', '127.0.0.1:9100', '--exec', 'srt://:7000'])),
    ).toEqual([
      { host: '127.0.0.1', port: 9100, flag: '--srt-target' },
      { host: '', port: 7000, flag: '--exec' },
    ]);
    expect(execBinds(opts(['--send']))).toEqual([]);
  });
});

describe('assertExecPortsFree', () => {
  const held: Socket[] = [];
  afterEach(() => {
    for (const s of held.splice(0)) s.close();
  });

  it('throws ExecPortBusy naming the port and the flag that moves it, only when held', async () => {
    const s = createSocket('udp4');
    held.push(s);
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const port = s.address().port;
    const err: unknown = await assertExecPortsFree([
      { host: '127.0.0.1', port, flag: '--srt-target' },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecPortBusy);
    expect((err as Error).message).toContain(`127.0.0.1:${port} is already in use`);
    expect((err as Error).message).toContain('--srt-target');
    // Every interface at that port is held too.
    await expect(assertExecPortsFree([{ host: '', port, flag: '--exec' }])).rejects.toThrow(
      `0.0.0.0:${port}`,
    );
    s.close();
    held.pop();
    await expect(
      assertExecPortsFree([{ host: '127.0.0.1', port, flag: '--exec' }]),
    ).resolves.toBeUndefined();
  });
});
