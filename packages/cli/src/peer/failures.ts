import { EXIT, type ExitCode } from './events.js';
import type { ExecError } from './exec.js';
import { ExecPortBusy } from './exec-ports.js';
import type { LinkEvent } from './link.js';
import type { PeerOptions } from './options.js';
import type { StreamOptions } from './stream-options.js';

/** Why the agent stops: the code and sentence the operator sees, and the exit code. */
export interface Failure {
  readonly code: string;
  readonly message: string;
  readonly exit: ExitCode;
}

type Who = Pick<StreamOptions, 'server' | 'session' | 'stream' | 'role'>;

/** The loopback socket for the SRT tool could not be bound, or a port `--exec` needs is held. */
export function localBindFailure(
  err: NodeJS.ErrnoException,
  o: Pick<StreamOptions, 'role' | 'srtListen' | 'srtTarget' | 'sourcePort'>,
): Failure {
  if (err instanceof ExecPortBusy)
    return { code: 'ERR_PORT_IN_USE', message: err.message, exit: EXIT.portInUse };
  const where =
    o.role === 'sender'
      ? `${o.srtListen.host}:${o.srtListen.port}`
      : `127.0.0.1:${o.sourcePort} (the agent's source port toward ${o.srtTarget.host}:${o.srtTarget.port})`;
  return bindFailure(err, where, '--srt-listen or --srt-target');
}

/** The media socket could not be bound (`--port`, `--bind`). */
export function mediaBindFailure(
  err: NodeJS.ErrnoException,
  o: Pick<PeerOptions, 'bind' | 'mediaPort'>,
): Failure {
  return bindFailure(err, `${o.bind}:${o.mediaPort} (the media socket)`, '--port or --bind');
}

/** A local socket that could not be bound: `where` it was, and the `flags` that move it. */
function bindFailure(err: NodeJS.ErrnoException, where: string, flags: string): Failure {
  return err.code === 'EADDRINUSE'
    ? {
        code: 'ERR_PORT_IN_USE',
        message: `${where} is already in use: another agent or SRT tool holds it; choose another with ${flags}`,
        exit: EXIT.portInUse,
      }
    : {
        code: 'ERR_LOCAL_SOCKET',
        message: `cannot open ${where}: ${err.message}`,
        exit: EXIT.portInUse,
      };
}

/** srt-live-transmit cannot run (`--exec`): a held port is exit 7, as for the agent's own. */
export function execFailure(error: ExecError): Failure {
  return { ...error, exit: error.code === 'ERR_PORT_IN_USE' ? EXIT.portInUse : EXIT.error };
}

/** Punch refused the upgrade, or closed the link for good (other than the session ending). */
export function linkFailure(
  e: Extract<LinkEvent, { type: 'rejected' }> | Extract<LinkEvent, { type: 'closed' }>,
  o: Who,
  /** Punch's own `error` before the close (ERR_REPLACED says who took over). */
  said?: string,
): Failure {
  if (e.type === 'rejected') {
    if (e.status === 404)
      return {
        code: e.code,
        message: `no session "${o.session}" on ${o.server}: it has ended, or the link is wrong`,
        exit: EXIT.notFound,
      };
    const detail = e.detail === '' ? '' : `: ${e.detail}`;
    return {
      code: e.code,
      message: `Punch refused the token (${e.code}${detail}). Ask the producer for a new link.`,
      exit: EXIT.refused,
    };
  }
  if (e.kind === 'replaced')
    return {
      code: 'ERR_REPLACED',
      message:
        said === undefined
          ? `another agent took over as ${o.role} of "${o.stream}" (it ran with --takeover, or with an admin token); this one stops`
          : `${said}; this one stops`,
      exit: EXIT.error,
    };
  return {
    code: 'ERR_TOKEN_EXPIRED',
    message: 'the token is no longer valid; ask the producer for a new link',
    exit: EXIT.refused,
  };
}

/** A server `error` that ends the agent; undefined for one it reports and rides out. */
export function serverErrorFailure(code: string, message: string, o: Who): Failure | undefined {
  switch (code) {
    case 'ERR_STREAM_FORBIDDEN':
    case 'ERR_FORBIDDEN':
      return {
        code,
        message: `${message}: this token cannot be ${o.role} of "${o.stream}"`,
        exit: EXIT.refused,
      };
    case 'ERR_STREAM_UNKNOWN':
      return { code, message: `${message}: check --stream`, exit: EXIT.notFound };
    case 'ERR_SLOT_TAKEN':
      // Punch's message carries its own "to replace it…" hint, in protocol words: this one
      // says the same for the operator, once.
      return {
        code,
        message: `another agent is live as ${o.role} of "${o.stream}": check it is not a second run of the same link; to replace it, run again with --takeover`,
        exit: EXIT.error,
      };
    default:
      return undefined;
  }
}

/** Punch has no STUN port (`registered.bind` is null) and no `--stun` was given. */
export const NO_STUN: Failure = {
  code: 'ERR_NO_STUN',
  message: 'this Punch server has no STUN: pass --stun HOST:PORT (a public STUN server)',
  exit: EXIT.error,
};

/** The punched path found no way through within `--punch-timeout`. */
export function noPathFailure(seconds: number, relay: string | undefined): Failure {
  if (relay === undefined || relay === 'Punch offered no relay')
    return {
      code: 'ERR_DIRECT_PATH_FAILED',
      message:
        `no direct path to the other side after ${seconds} s, and this Punch server offers no relay. One of the ` +
        'two networks probably has a symmetric NAT (a new public port for every destination) or blocks UDP. Ask ' +
        "the producer for a Punch with its relay on (punch serve's default, or --turn-url), use another network " +
        '(e.g. a phone hotspot), or forward a UDP port on one router.',
      exit: EXIT.noDirectPath,
    };
  return {
    code: 'ERR_NO_PATH',
    message:
      `no path to the other side after ${seconds} s, direct or relayed (${relay}). Check that this network ` +
      "reaches the relay (UDP or TCP port 3478 and the relay's port range; see docs/relay.md), or try another " +
      'network (e.g. a phone hotspot).',
    exit: EXIT.noDirectPath,
  };
}
