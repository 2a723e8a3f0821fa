import type { Endpoint } from './wire/common.js';

/** Local ports the agent uses by default (DESIGN.md, "The data path"). */
export const AGENT_SEND_PORT = 9000;
export const AGENT_RECEIVE_PORT = 9100;
/**
 * What the `punch peer` lines of `/connect` hold where the stream's operator link goes: the
 * link `punch token --stream NAME` prints (or the dashboard's Commands panel fills in).
 */
export const PEER_LINK_PLACEHOLDER = 'LINK';
/** Base of the agreed rendezvous ports for tools used without the agent (one per stream). */
export const RENDEZVOUS_BASE_PORT = 20000;

/**
 * A human label for each `commands` key of `/connect`, in the order to show them (the CLI's
 * `punch session connect` and the dashboard's Commands panel).
 *
 * @example
 * Object.entries(TOOL_LABELS).map(([key, label]) => `${label}: ${commands[key] ?? '—'}`);
 */
export const TOOL_LABELS = {
  'punch-peer-send': 'punch peer, camera side (sends)',
  'punch-peer-receive': 'punch peer, gallery side (receives)',
  'ffmpeg-send': 'ffmpeg → agent (send)',
  'ffmpeg-receive': 'agent → ffmpeg (receive)',
  'gstreamer-send': 'GStreamer → agent (send)',
  'gstreamer-receive': 'agent → GStreamer (receive)',
  'srt-live-transmit-send': 'srt-live-transmit → agent (send)',
  'srt-live-transmit-receive': 'agent → srt-live-transmit (receive)',
  obs: 'OBS',
  vmix: 'vMix',
  'srt-live-transmit-rendezvous-send': 'without an agent: srt-live-transmit rendezvous (send)',
  'srt-live-transmit-rendezvous-receive':
    'without an agent: srt-live-transmit rendezvous (receive)',
} as const satisfies Record<string, string>;

export interface ConnectInput {
  readonly server: string;
  readonly session: string;
  readonly stream: string;
  readonly index: number;
  readonly passphrase: string;
  readonly pbkeylen: number;
  readonly latencyMs: number;
  readonly sender: Endpoint | null;
  readonly receiver: Endpoint | null;
  /** The agent's local ports, when not the defaults (`--srt-listen`, `--srt-target`). */
  readonly sendPort?: number;
  readonly receivePort?: number;
}

function srtQuery(i: ConnectInput, mode: string, latencyUnit: 'ms' | 'us'): string {
  const latency = latencyUnit === 'us' ? i.latencyMs * 1000 : i.latencyMs;
  return `mode=${mode}&passphrase=${i.passphrase}&pbkeylen=${i.pbkeylen}&latency=${latency}`;
}

/**
 * GStreamer's srtsink/srtsrc (gst-plugins-bad) take the mode in the URI and the rest as element
 * properties, `latency` in milliseconds (unlike ffmpeg's URI, in microseconds).
 * https://gstreamer.freedesktop.org/documentation/srt/srtsink.html
 */
function gstSrt(i: ConnectInput, element: 'srtsink' | 'srtsrc', uri: string): string {
  return `${element} uri="${uri}" latency=${i.latencyMs} passphrase=${i.passphrase} pbkeylen=${i.pbkeylen}`;
}

function host(ep: Endpoint): string {
  return ep.ip.includes(':') ? `[${ep.ip}]` : ep.ip;
}

/**
 * Ready-to-paste command lines for one stream, keyed by tool. The `punch peer` lines take the
 * stream's operator link in place of `LINK` (`punch token --stream NAME`). With the agent, the user's tool
 * talks SRT to the agent on loopback; without it, `*-rendezvous` lines use one agreed port at
 * both ends (OBS and vMix cannot follow a NAT's port mapping). Each tool gets the latency in its
 * own unit: microseconds in ffmpeg's and OBS's URI (OBS hands it to ffmpeg), milliseconds for
 * srt-live-transmit's URI, GStreamer's `latency` property and vMix's Latency field.
 *
 * @example
 * const cmds = connectionStrings({ server: 'https://punch.example', session: 's', stream: 'cam',
 *   index: 0, passphrase, pbkeylen: 32, latencyMs: 120, sender: null, receiver: null });
 * cmds['ffmpeg-send'] // 'ffmpeg -re -i input.ts -c copy -f mpegts "srt://127.0.0.1:9000?..."'
 */
export function connectionStrings(i: ConnectInput): Record<string, string> {
  const port = RENDEZVOUS_BASE_PORT + i.index;
  const sendPort = i.sendPort ?? AGENT_SEND_PORT;
  const receivePort = i.receivePort ?? AGENT_RECEIVE_PORT;
  const sendUrl = `srt://127.0.0.1:${sendPort}?${srtQuery(i, 'caller', 'us')}`;
  const out: Record<string, string> = {
    // LINK stands for the stream's operator link (`punch token --stream NAME`), never a token
    // variable: the producer's shell holds the admin token in PUNCH_TOKEN, and an admin token
    // takes over a live slot (DESIGN.md "A live slot is not taken silently"). Pasted as is,
    // 'LINK' is refused as "not an operator link" and knocks no one off air.
    'punch-peer-send': `punch peer '${PEER_LINK_PLACEHOLDER}' --send`,
    'punch-peer-receive': `punch peer '${PEER_LINK_PLACEHOLDER}' --receive`,
    'ffmpeg-send': `ffmpeg -re -i input.ts -c copy -f mpegts "${sendUrl}"`,
    'ffmpeg-receive': `ffmpeg -i "srt://127.0.0.1:${receivePort}?${srtQuery(i, 'listener', 'us')}" -c copy out.ts`,
    'srt-live-transmit-send': `srt-live-transmit udp://:5000 "srt://127.0.0.1:${sendPort}?${srtQuery(i, 'caller', 'ms')}"`,
    'srt-live-transmit-receive': `srt-live-transmit "srt://:${receivePort}?${srtQuery(i, 'listener', 'ms')}" file://con > out.ts`,
    // alignment=7: seven 188-byte TS packets fill one 1316-byte SRT live payload.
    'gstreamer-send': `gst-launch-1.0 -e filesrc location=input.ts ! tsparse set-timestamps=true alignment=7 ! ${gstSrt(i, 'srtsink', `srt://127.0.0.1:${sendPort}?mode=caller`)}`,
    'gstreamer-receive': `gst-launch-1.0 -e ${gstSrt(i, 'srtsrc', `srt://:${receivePort}?mode=listener`)} ! filesink location=out.ts`,
    obs: `Settings → Stream → Service: Custom, Server: ${sendUrl}`,
    vmix: `Output → SRT: Type Caller, Hostname 127.0.0.1, Port ${sendPort}, Latency ${i.latencyMs}, Passphrase ${i.passphrase}, Key length ${i.pbkeylen}`,
  };
  if (i.receiver !== null) {
    out['srt-live-transmit-rendezvous-send'] =
      `srt-live-transmit udp://:5000 "srt://${host(i.receiver)}:${port}?${srtQuery(i, 'rendezvous', 'ms')}"`;
  }
  if (i.sender !== null) {
    out['srt-live-transmit-rendezvous-receive'] =
      `srt-live-transmit "srt://${host(i.sender)}:${port}?${srtQuery(i, 'rendezvous', 'ms')}" file://con > out.ts`;
  }
  return out;
}
