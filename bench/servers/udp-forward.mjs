// A bare Node UDP relay for bench/agent.mjs: what forwarding a datagram costs in Node on this
// machine, with nothing else. Receives on 127.0.0.1:LISTEN and sends every datagram, unread,
// from a second socket to 127.0.0.1:TARGET (the same two-socket shape as a `punch peer` agent).
// Prints "ready" once bound; exits on SIGTERM/SIGINT.
//
//   node bench/servers/udp-forward.mjs LISTEN TARGET
import dgram from 'node:dgram';

const [listen, target] = process.argv.slice(2).map(Number);
if (!(listen > 0 && target > 0)) {
  process.stderr.write('usage: node bench/servers/udp-forward.mjs LISTEN_PORT TARGET_PORT\n');
  process.exit(2);
}
const inbound = dgram.createSocket('udp4');
const outbound = dgram.createSocket('udp4');
outbound.on('error', () => undefined); // ICMP port unreachable while the sink is not up
inbound.on('message', (msg) => outbound.send(msg, target, '127.0.0.1'));
inbound.bind(listen, '127.0.0.1', () => process.stdout.write('ready\n'));
const stop = () => {
  inbound.close();
  outbound.close();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
