/**
 * What the developer's token endpoint said when `getToken()` gave no token: the `ERR_TOKEN_SOURCE`
 * message carries it, so "your /token route answered 401 not logged in" reaches the console
 * instead of a bare "getToken() failed".
 */

/** The longest piece of the endpoint's own text carried in a message. */
const MAX_TEXT = 200;
/** The most of a thrown Response's body read for its error text. */
const MAX_BODY = 4096;

/**
 * The message for a `getToken()` that threw (or rejected with) `cause`: an Error's message, a
 * thrown `Response`'s status, status text and the body's error text, or a thrown string.
 *
 * @example
 * await tokenFailureMessage(new Error('HTTP 401: not logged in'));
 * // 'getToken() failed: HTTP 401: not logged in'
 * await tokenFailureMessage(new Response('{"error":{"message":"no session"}}', { status: 401 }));
 * // 'getToken() failed: the token endpoint answered 401: no session'
 */
export async function tokenFailureMessage(cause: unknown): Promise<string> {
  const said = await describe(cause);
  return said === '' ? 'getToken() failed' : `getToken() failed: ${said}`;
}

/**
 * The message for a `getToken()` that resolved to something that is not a token: often an
 * error body read as text (`fetch('/token').then((r) => r.text())` on a 401), whose error
 * text (`error.message`, `error`, `message`, `error_description`) is then carried.
 *
 * @example
 * notATokenMessage('{"error":{"message":"not logged in"}}');
 * // 'getToken() returned no token: not logged in'
 * notATokenMessage(42); // 'the token is not a JWT (compact form)'
 */
export function notATokenMessage(value: unknown): string {
  const said = typeof value === 'string' ? errorText(value) : '';
  return said === ''
    ? 'the token is not a JWT (compact form)'
    : `getToken() returned no token: ${said}`;
}

async function describe(cause: unknown): Promise<string> {
  if (isResponse(cause)) {
    const status = `${cause.status}${cause.statusText === '' ? '' : ` ${cause.statusText}`}`;
    let body = '';
    try {
      body = errorText((await cause.text()).slice(0, MAX_BODY));
    } catch {
      // A body already read, or a stream that fails: the status says enough.
    }
    return `the token endpoint answered ${status}${body === '' ? '' : `: ${body}`}`;
  }
  if (cause instanceof Error) return oneLine(cause.message);
  if (typeof cause === 'string') return oneLine(cause);
  return '';
}

/** A body's error text: the fields token endpoints put it in, else the body as plain text. */
function errorText(body: string): string {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    // Not JSON: plain text, unless it is a page (an HTML error page says nothing useful here).
    return /^\s*</.test(body) ? '' : oneLine(body);
  }
  const pick = (o: unknown, key: string): unknown =>
    typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[key] : undefined;
  const error = pick(json, 'error');
  for (const v of [
    pick(error, 'message'),
    error,
    pick(json, 'message'),
    pick(json, 'error_description'),
  ])
    if (typeof v === 'string' && v.trim() !== '') return oneLine(v);
  return '';
}

/** One line of at most MAX_TEXT characters, with anything shaped like a token masked. */
function oneLine(text: string): string {
  // Cut first: the masking below then runs over a few hundred characters at most.
  const flat = text
    .slice(0, 2 * MAX_TEXT)
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    // A token the endpoint did send, wrapped in something unexpected, is never echoed (even
    // cut short by the slice above).
    .replace(/[\w-]{16,}\.[\w.-]*/g, '[token]')
    .trim();
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT)}…` : flat;
}

function isResponse(v: unknown): v is Pick<Response, 'status' | 'statusText' | 'text'> {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { status?: unknown }).status === 'number' &&
    typeof (v as { statusText?: unknown }).statusText === 'string' &&
    typeof (v as { text?: unknown }).text === 'function'
  );
}
