// Bounded hostile-input run against a live `punch serve` relay (loopback only):
//   node tests/redteam-relay/fuzz.mjs <stunPort> <httpPort> <pid> [seconds=3]
// UDP: random bytes, STUN-headed junk with random attribute TLVs, malformed ChannelData,
// unauthenticated Allocates from many source ports; TCP: garbage, oversize frames, half frames
// held open (slowloris), a connection flood. Prints RSS before/after and the TURN counters.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { encodeMessage, STUN_METHOD } from '@punch/core';

const [stunPort, httpPort, pid, secs = '3'] = process.argv.slice(2).map(Number);
const until = Date.now() + secs * 1000;
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const metrics = async () =>
  (await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text())
    .split('\n')
    .filter((l) => l.startsWith('punch_turn_') && !l.includes(' 0'))
    .join('\n');

const stunJunk = () => {
  const body = randomBytes(4 * Math.floor(Math.random() * 40));
  const h = Buffer.alloc(20);
  h.writeUInt16BE(Math.floor(Math.random() * 0x3fff), 0);
  h.writeUInt16BE(body.length, 2);
  h.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(h, 8);
  return Buffer.concat([h, body]);
};
const channelJunk = () => {
  const b = randomBytes(4 + Math.floor(Math.random() * 100));
  b.writeUInt16BE(0x4000 + Math.floor(Math.random() * 0x1000), 0);
  b.writeUInt16BE(Math.floor(Math.random() * 0xffff), 2); // length lies
  return b;
};
const allocate = () =>
  encodeMessage({
    method: STUN_METHOD.allocate,
    class: 'request',
    transactionId: randomBytes(12),
    attributes: [{ type: 'REQUESTED-TRANSPORT', protocol: 17 }],
  });

const rss0 = rss();
console.log('rss before (kB)', rss0);
const sockets = await Promise.all(
  Array.from(
    { length: 8 },
    () =>
      new Promise((r) => {
        const s = createSocket('udp4');
        s.bind(0, '127.0.0.1', () => r(s));
      }),
  ),
);
let sent = 0;
const udp = async () => {
  while (Date.now() < until) {
    for (let i = 0; i < 200; i++) {
      const s = sockets[i % sockets.length];
      const kind = i % 4;
      const pkt =
        kind === 0
          ? randomBytes(1 + (i % 300))
          : kind === 1
            ? stunJunk()
            : kind === 2
              ? channelJunk()
              : allocate();
      s.send(pkt, stunPort, '127.0.0.1');
      sent++;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
};
let tcpOpened = 0,
  tcpRefusedOrClosed = 0;
const held = [];
const tcp = async () => {
  while (Date.now() < until) {
    for (let i = 0; i < 20; i++) {
      const c = connect(stunPort, '127.0.0.1');
      tcpOpened++;
      c.on('error', () => {});
      c.on('close', () => tcpRefusedOrClosed++);
      const kind = i % 4;
      c.on('connect', () => {
        if (kind === 0) c.write(randomBytes(64));
        else if (kind === 1) {
          const b = Buffer.alloc(4);
          b.writeUInt16BE(0x4001, 0);
          b.writeUInt16BE(0xffff, 2);
          c.write(b);
        } // ChannelData claiming 64 KiB, never sent
        else if (kind === 2)
          c.write(stunJunk().subarray(0, 10)); // half a header, held (slowloris)
        else c.write(Buffer.concat([allocate(), channelJunk()]));
      });
      held.push(c);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
};
await Promise.all([udp(), tcp()]);
await new Promise((r) => setTimeout(r, 500));
console.log(
  'udp datagrams sent',
  sent,
  'tcp opened',
  tcpOpened,
  'closed by server or refused',
  tcpRefusedOrClosed,
);
console.log('rss after (kB)', rss(), 'delta', rss() - rss0);
console.log(await metrics());
// The server still answers a Binding request.
const probe = sockets[0];
const ok = await new Promise((resolve) => {
  const t = setTimeout(() => resolve(false), 2000);
  probe.on('message', (m) => {
    if (m.readUInt16BE(0) === 0x0101) {
      clearTimeout(t);
      resolve(true);
    }
  });
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(b, 8);
  probe.send(b, stunPort, '127.0.0.1');
});
console.log('binding answered after the run:', ok);
for (const c of held) c.destroy();
for (const s of sockets) s.close();
