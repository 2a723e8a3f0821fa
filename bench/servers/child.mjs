// What every bench/servers script shares as the child of a benchmark: `--host`/`--port`, the
// {"msg":"listening","port":N} line the benchmarks wait for, and stopping when stdin closes
// (the parent went away) or on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';

/** `--host` (default 127.0.0.1) and `--port` (default 0: any free port). */
export function listenOptions() {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
    },
  });
  return { host: values.host, port: Number(values.port) };
}

/** The line the benchmarks wait for, once the server listens on `address`. */
export function announce(address) {
  if (address === null || typeof address === 'string') throw new Error('not listening on a port');
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: address.port })}\n`);
}

/**
 * Runs `stop` (which should close the server and exit) when stdin closes or on SIGTERM/SIGINT;
 * the process exits 1 s later in any case.
 */
export function stopWithParent(stop) {
  const onStop = () => {
    stop();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.stdin.on('end', onStop);
  process.stdin.on('error', onStop);
  process.stdin.resume();
}
