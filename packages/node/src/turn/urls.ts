import type { TurnConfig } from '@punch/core';

/**
 * Which TURN server this host's clients are told about, in both realms: the external one
 * (`--turn-url` + PUNCH_TURN_SECRET, coturn) when configured, else Punch's own relay on the
 * STUN port, at the name the client reached Punch by (UDP, and TCP for networks that block
 * UDP), else none.
 *
 * @example
 * const turnFor = turnConfigFor({ external: undefined, own: () => ({ secret, port: 3478, tcp: true }) });
 * turnFor('punch.example'); // { secret, urls: ['turn:punch.example:3478?transport=udp', '…tcp'] }
 */
export function turnConfigFor(options: {
  readonly external: TurnConfig | undefined;
  /** Punch's own relay while it runs (its secret, its port, whether TCP is served), else undefined. */
  readonly own: () => { secret: string; port: number; tcp: boolean } | undefined;
}): (host: string | undefined) => TurnConfig | undefined {
  return (host) => {
    if (options.external !== undefined && options.external.urls.length > 0) return options.external;
    const own = options.own();
    if (own === undefined || host === undefined) return undefined;
    const at = `${host.includes(':') ? `[${host}]` : host}:${own.port}`;
    const urls = [`turn:${at}?transport=udp`];
    if (own.tcp) urls.push(`turn:${at}?transport=tcp`);
    return { secret: own.secret, urls };
  };
}
