import { connectionStrings } from '@punch/core';
import type { PeerMessage } from './link.js';
import type { StreamOptions } from './stream-options.js';

/** What the local SRT tool needs from a pairing: the stream's key and SRT parameters. */
export type SrtParams = Pick<PeerMessage, 'passphrase' | 'pbkeylen' | 'latencyMs'>;

/**
 * The commands that point the operator's own SRT tool at this agent's loopback port: the
 * sending side's tools (ffmpeg, srt-live-transmit, GStreamer, OBS, vMix) or the receiving
 * side's, never the rendezvous strings (the agent does the rendezvous) nor `punch peer` itself.
 */
export function toolCommands(o: StreamOptions, srt: SrtParams): Record<string, string> {
  const commands = connectionStrings({
    server: o.server,
    session: o.session,
    stream: o.stream,
    index: 0,
    passphrase: srt.passphrase,
    pbkeylen: srt.pbkeylen,
    latencyMs: srt.latencyMs,
    sender: null,
    receiver: null,
    sendPort: o.srtListen.port,
    receivePort: o.srtTarget.port,
  });
  return Object.fromEntries(
    Object.entries(commands)
      .filter(([k]) =>
        o.role === 'sender'
          ? k.endsWith('-send') || k === 'obs' || k === 'vmix'
          : k.endsWith('-receive'),
      )
      .filter(([k]) => !k.startsWith('punch-peer') && !k.includes('rendezvous')),
  );
}

/**
 * srt-live-transmit's input and output for `--exec`: the user's URI on one end, the agent's
 * loopback SRT port on the other (as caller of `--srt-listen` when sending, as the listener at
 * `--srt-target` when receiving).
 */
export function execEnds(o: StreamOptions, exec: string, srt: SrtParams): [string, string] {
  const q = `passphrase=${srt.passphrase}&pbkeylen=${srt.pbkeylen}&latency=${srt.latencyMs}`;
  return o.role === 'sender'
    ? [exec, `srt://${o.srtListen.host}:${o.srtListen.port}?mode=caller&${q}`]
    : [`srt://${o.srtTarget.host}:${o.srtTarget.port}?mode=listener&${q}`, exec];
}
