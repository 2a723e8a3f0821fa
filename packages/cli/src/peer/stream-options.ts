import type { HostPort, PeerOptions } from './options.js';

/** Everything one stream of the agent needs: the options with its own ports and `--exec`. */
export interface StreamOptions extends Omit<PeerOptions, 'stream' | 'map'> {
  readonly stream: string;
  /**
   * `--receive`: the stable loopback port the agent talks to the SRT listener from (SRT pins the
   * peer's source address, so a restarted agent resumes the same SRT session from it).
   */
  readonly sourcePort: number;
  /** One of every stream an all-streams agent carries (a slot held elsewhere is waited for). */
  readonly oneOfMany: boolean;
}

/**
 * How far above `--srt-target`'s port the source ports of an agent receiving every stream
 * start: the listeners take port + 0 … port + 31 (a session has at most 32 streams), so "the
 * target's port + 1" of a single stream would be the next stream's listener (DESIGN.md
 * "Streams on show day").
 */
export const SOURCE_OFFSET = 100;

/**
 * The options of stream `name`, number `index` in the session's order. One stream (a
 * single-stream token, or `--stream`) keeps the options as given: the SRT listener at
 * `--srt-target`, the source port just above it. Every stream (an all-streams token with
 * `--receive`): stream i's listener is `--map`'s, else `--srt-target`'s port + i; its source
 * port is `--srt-target`'s port + 100 + i; its media socket `--port` + i (unless any); and
 * `--exec`'s URI its own port + i, or `{stream}` replaced by its name.
 *
 * @example
 * streamOptions(o, 'cam-2', 1).srtTarget; // { host: '127.0.0.1', port: 9101 }
 */
export function streamOptions(o: PeerOptions, name: string, index: number): StreamOptions {
  const { stream, map, ...rest } = o;
  if (stream !== undefined)
    return {
      ...rest,
      stream: name,
      sourcePort: o.srtTarget.port + 1,
      oneOfMany: false,
      exec: o.exec?.replaceAll('{stream}', name),
    };
  const target: HostPort = map.get(name) ?? {
    host: o.srtTarget.host,
    port: o.srtTarget.port + index,
  };
  return {
    ...rest,
    stream: name,
    srtTarget: target,
    sourcePort: o.srtTarget.port + SOURCE_OFFSET + index,
    oneOfMany: true,
    mediaPort: o.mediaPort === 0 ? 0 : o.mediaPort + index,
    exec: o.exec === undefined ? undefined : execFor(o.exec, name, index),
  };
}

/**
 * `--exec`'s URI for stream `index`: with `{stream}` in it, that replaced by the stream's name
 * (the user names each stream's destination); else the port the URI names (if any) moved up by
 * `index`, so each stream's srt-live-transmit writes elsewhere.
 *
 * @example
 * execFor('udp://127.0.0.1:6000', 'cam-2', 1); // 'udp://127.0.0.1:6001'
 * execFor('srt://dec-{stream}:9000?mode=caller', 'cam-2', 1); // 'srt://dec-cam-2:9000?mode=caller'
 */
export function execFor(exec: string, name: string, index: number): string {
  if (exec.includes('{stream}')) return exec.replaceAll('{stream}', name);
  return exec.replace(
    /^([a-z][a-z0-9+.-]*:\/\/(?:\[[^\]]*\]|[^/:?#[\]]*)):(\d{1,5})(?=$|[/?#])/i,
    (_all, head: string, port: string) => `${head}:${Number(port) + index}`,
  );
}
