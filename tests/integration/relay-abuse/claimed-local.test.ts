/**
 * In `auto`, a peer's claimed LAN candidates reach the other agent unverified (Punch checks only
 * a claimed public endpoint). A hostile peer naming 127.0.0.1:<a port on the victim's machine>
 * must not make the victim's agent probe it: loopback and link-local candidates are dropped.
 */
import { createSocket, type Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { deriveTunnelKey } from '@punch/core';
import { PunchedPath } from '../../../packages/cli/src/peer/path.js';

const sockets: Socket[] = [];
async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  sockets.push(s);
  return s;
}
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

describe('claimed LAN candidates', () => {
  it("are not probed when they are loopback (a service on the agent's own machine)", async () => {
    const media = await bound();
    // The hostile peer's "public" endpoint (a black hole) and the local service it names.
    const hole = await bound();
    const service = await bound();
    let hits = 0;
    service.on('message', () => hits++);
    const key = await deriveTunnelKey('AbCdEfGhIjKlMnOpQrStUvWxYz012345', 'show', 'cam-1');
    const path = new PunchedPath({
      socket: media,
      key,
      role: 'receiver',
      remote: {
        ip: '203.0.113.9',
        port: hole.address().port,
        local: [{ ip: '127.0.0.1', port: service.address().port }],
      },
      punchTimeoutMs: 60_000,
      events: {
        up: () => undefined,
        down: () => undefined,
        failed: () => undefined,
        data: () => undefined,
      },
    });
    try {
      for (let waited = 0; waited < 1000 && hits < 3; waited += 50) await sleep(50);
      expect(hits).toBe(0);
    } finally {
      path.close();
    }
  });
});
