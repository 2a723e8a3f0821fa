import { describe, expect, it } from 'vitest';
import { connectionStrings } from '@punch/core';
import { connectLines } from './connect-lines.js';

const commands = connectionStrings({
  server: 'https://punch.example',
  session: 'nab-floor',
  stream: 'cam-close',
  index: 0,
  passphrase: 'abcdefghijklmnopqrstuvwxyz012345',
  pbkeylen: 32,
  latencyMs: 120,
  sender: { ip: '127.0.0.1', port: 4000 },
  receiver: { ip: '127.0.0.1', port: 5000 },
});

describe('connectLines', () => {
  it("prints punch peer lines with a LINK placeholder, never one that runs with the shell's token", () => {
    // What an older server sends: pasted in the producer's shell, PUNCH_TOKEN is the admin
    // token, and the agent would take the live slot over.
    const old = {
      ...commands,
      'punch-peer-send':
        'punch peer --server https://punch.example --token "$PUNCH_TOKEN" --stream cam-close --send',
      'punch-peer-receive':
        'punch peer --server https://punch.example --token "$PUNCH_TOKEN" --stream cam-close --receive',
      'punch-peer-future': 'punch peer --token "$PUNCH_TOKEN" --stream cam-close --frobnicate',
    };
    for (const source of [commands, old]) {
      const lines = connectLines(source);
      expect(lines.slice(0, 2)).toEqual([
        ['punch peer, camera side (sends)', "punch peer 'LINK' --send"],
        ['punch peer, gallery side (receives)', "punch peer 'LINK' --receive"],
      ]);
      for (const [, line] of lines) expect(line).not.toContain('PUNCH_TOKEN');
    }
  });

  it('leaves out the rendezvous lines, which need the other machine’s public address', () => {
    expect(Object.keys(commands).some((k) => k.includes('rendezvous'))).toBe(true);
    const lines = connectLines(commands);
    for (const [label, line] of lines) {
      expect(label).not.toMatch(/rendezvous/);
      expect(line).not.toMatch(/rendezvous|:20000/);
    }
    // Every other tool is still there, under its label, and an unknown key under its name.
    expect(lines.map(([label]) => label)).toContain('ffmpeg → agent (send)');
    expect(connectLines({ ...commands, ristretto: 'x' }).at(-1)).toEqual(['ristretto', 'x']);
  });
});
