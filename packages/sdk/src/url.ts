const SCHEMES: Readonly<Record<string, string>> = {
  'http:': 'ws:',
  'https:': 'wss:',
  'ws:': 'ws:',
  'wss:': 'wss:',
};

/**
 * The signalling WebSocket URL for a Punch base URL: `http(s)://host[:port][/prefix]` becomes
 * `ws(s)://host[:port][/prefix]/api/signal`. A `ws(s)://` URL is taken as the base too.
 *
 * @example
 * signalUrl('https://punch.example.com');        // 'wss://punch.example.com/api/signal'
 * signalUrl('http://127.0.0.1:8787/punch/');     // 'ws://127.0.0.1:8787/punch/api/signal'
 */
export function signalUrl(base: string): string {
  let u: URL;
  try {
    u = new URL(base);
  } catch (cause) {
    throw new TypeError(
      `url must be Punch's base URL, like https://punch.example.com (got ${JSON.stringify(base)})`,
      {
        cause,
      },
    );
  }
  const scheme = SCHEMES[u.protocol];
  if (scheme === undefined) {
    throw new TypeError(`url must be http(s):// or ws(s)://, not ${u.protocol}`);
  }
  const prefix = u.pathname.replace(/\/+$/, '');
  return `${scheme}//${u.host}${prefix}/api/signal`;
}
