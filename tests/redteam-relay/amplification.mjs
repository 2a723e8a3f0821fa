// UDP answer sizes for 20-byte requests (reflection factor): node tests/redteam-relay/amplification.mjs <stunPort>
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
const port = Number(process.argv[2]);
const s = createSocket('udp4');
const reqs = {
  'Allocate, no attributes (20 B)': (() => {
    const b = Buffer.alloc(20);
    b.writeUInt16BE(0x0003, 0);
    b.writeUInt32BE(0x2112a442, 4);
    randomBytes(12).copy(b, 8);
    return b;
  })(),
  'Refresh, no attributes (20 B)': (() => {
    const b = Buffer.alloc(20);
    b.writeUInt16BE(0x0004, 0);
    b.writeUInt32BE(0x2112a442, 4);
    randomBytes(12).copy(b, 8);
    return b;
  })(),
  'Binding (20 B)': (() => {
    const b = Buffer.alloc(20);
    b.writeUInt16BE(0x0001, 0);
    b.writeUInt32BE(0x2112a442, 4);
    randomBytes(12).copy(b, 8);
    return b;
  })(),
};
s.bind(0, '127.0.0.1', async () => {
  for (const [name, b] of Object.entries(reqs)) {
    const got = await new Promise((r) => {
      const t = setTimeout(() => r(0), 1000);
      s.once('message', (m) => {
        clearTimeout(t);
        r(m.length);
      });
      s.send(b, port, '127.0.0.1');
    });
    console.log(name, '->', got, 'B', `(x${(got / b.length).toFixed(1)})`);
  }
  s.close();
});
