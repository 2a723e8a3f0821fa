/**
 * Stored health is bounded on every host (DESIGN.md "Limits, storage faults and deletion"): one
 * socket holding every slot of a 32-stream session, sending reports of the largest size at the
 * rate a socket is allowed by default (100 a second), stores at most one sample per second per
 * side, and at most 1 MiB for the session. Rows are counted the host's own way (Node: its
 * SQLite file; workerd: the session's object). What the Node host leaves on disk (file modes,
 * deleted passphrases, the file's growth) is tested on the real process in
 * tests/integration/storage.test.ts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HEALTH_MAX_BYTES } from '@punch/core';
import { startHost, type Host } from './host.js';
import { createSession, WsClient } from './client.js';

const SECONDS = 6;

let host: Host;
beforeAll(async () => {
  host = await startHost();
});
afterAll(async () => {
  await host.stop();
});

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

it('one socket holding every slot at the full message rate stores bounded health', async () => {
  const streams = Array.from({ length: 32 }, (_, i) => `cam-${i + 1}`);
  const s = await createSession(host.url, { streams });
  const ws = await WsClient.connect(host.url, s.session, s.token);
  const slots = streams.flatMap((stream) =>
    (['sender', 'receiver'] as const).map((role) => ({ stream, role })),
  );
  for (const slot of slots) ws.send({ type: 'register', ...slot });
  await ws.settle();
  expect(ws.all('registered')).toHaveLength(64);

  // The largest report a side may send: 32 SRT statistics, 64-character keys and values.
  const srt = Object.fromEntries(
    Array.from({ length: 32 }, (_, i) => [`k${String(i).padStart(63, '0')}`, 'v'.repeat(64)]),
  );
  const stats = { path: 'direct', rttMs: 12, sendBps: 1e7, recvBps: 1e7, srt };
  let sent = 0;
  // Nine messages every ~105 ms (86 a second): just under the default limit (100 a second).
  for (let tick = 0; tick < SECONDS * 10 && ws.closeCode === undefined; tick++) {
    for (let i = 0; i < 9; i++) {
      ws.send({ type: 'health', ...slots[sent % slots.length]!, stats });
      sent++;
    }
    await sleep(105);
  }
  await ws.settle();
  expect(ws.closeCode).toBeUndefined();
  const { health } = await host.rowCounts(s.session);
  ws.close();

  // Each side stored at most one sample a second (plus one), of the 90-odd a second sent.
  expect(health).toBeGreaterThan(0);
  expect(health).toBeLessThanOrEqual(slots.length * (SECONDS + 2));
  // Every row holds at least the report's JSON: together no more than the cap.
  expect(health * JSON.stringify(stats).length).toBeLessThanOrEqual(HEALTH_MAX_BYTES);
}, 60_000);
