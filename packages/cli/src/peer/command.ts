import { Agent } from './agent.js';
import { PEER_HELP, parsePeerOptions } from './options.js';
import { createReporter } from './ui.js';
import { createStreamsReporter } from './ui-streams.js';

/** `punch peer`: runs the agent until the session ends, a fatal error, or Ctrl-C. */
export async function peerCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (t: string) => void,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(PEER_HELP);
    return 0;
  }
  const options = parsePeerOptions(argv, env);
  // Receiving every stream: one status line per stream (`--json` events name their stream).
  const streams =
    options.stream === undefined && !options.json
      ? createStreamsReporter(process.stdout)
      : undefined;
  const report = streams ?? createReporter(options.json, process.stdout);
  const agent = new Agent(options, report);
  const stop = (): void => {
    agent.stop(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const code = await agent.run();
    // Everything is closed by now; should a socket still linger (a peer that never answers a
    // WebSocket close), the operator still gets their prompt back.
    setTimeout(() => process.exit(code), 3000).unref();
    return code;
  } finally {
    // Stopped (Ctrl-C, or every stream stopped): no live line is left saying ON AIR.
    streams?.end();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
