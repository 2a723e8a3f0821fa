import { describe, expect, it } from 'vitest';
import { EXIT } from './events.js';
import {
  NO_STUN,
  noPathFailure,
  linkFailure,
  localBindFailure,
  mediaBindFailure,
  serverErrorFailure,
} from './failures.js';

const WHO = {
  server: 'https://punch.example',
  session: 'nab-floor',
  stream: 'cam-wide',
  role: 'sender',
} as const;

const errno = (code: string, message = code): NodeJS.ErrnoException =>
  Object.assign(new Error(message), { code });

describe('what ends the agent, and with which exit code', () => {
  it('a token refused at upgrade: exit 3, with the problem code and detail', () => {
    expect(
      linkFailure(
        { type: 'rejected', status: 401, code: 'ERR_TOKEN_EXPIRED', detail: 'expired 5 s ago' },
        WHO,
      ),
    ).toEqual({
      code: 'ERR_TOKEN_EXPIRED',
      message:
        'Punch refused the token (ERR_TOKEN_EXPIRED: expired 5 s ago). Ask the producer for a new link.',
      exit: EXIT.refused,
    });
    expect(
      linkFailure({ type: 'rejected', status: 403, code: 'HTTP_403', detail: '' }, WHO),
    ).toEqual({
      code: 'HTTP_403',
      message: 'Punch refused the token (HTTP_403). Ask the producer for a new link.',
      exit: 3,
    });
  });

  it('no such session at upgrade: exit 4, naming the session and the server', () => {
    expect(
      linkFailure(
        { type: 'rejected', status: 404, code: 'ERR_SESSION_NOT_FOUND', detail: '' },
        WHO,
      ),
    ).toEqual({
      code: 'ERR_SESSION_NOT_FOUND',
      message:
        'no session "nab-floor" on https://punch.example: it has ended, or the link is wrong',
      exit: 4,
    });
  });

  it('a close meaning refused (4401, 4403): exit 3; replaced (4409): exit 1', () => {
    const closed = (kind: 'refused' | 'replaced') =>
      linkFailure({ type: 'closed', kind, code: 4000, reason: '', text: '' }, WHO);
    expect(closed('refused')).toEqual({
      code: 'ERR_TOKEN_EXPIRED',
      message: 'the token is no longer valid; ask the producer for a new link',
      exit: 3,
    });
    expect(closed('replaced')).toEqual({
      code: 'ERR_REPLACED',
      message:
        'another agent took over as sender of "cam-wide" (it ran with --takeover, or with an admin token); this one stops',
      exit: 1,
    });
  });

  it('server errors: forbidden exit 3, unknown stream exit 4, slot taken exit 1, others ridden out', () => {
    expect(serverErrorFailure('ERR_STREAM_FORBIDDEN', 'no', WHO)).toEqual({
      code: 'ERR_STREAM_FORBIDDEN',
      message: 'no: this token cannot be sender of "cam-wide"',
      exit: 3,
    });
    expect(serverErrorFailure('ERR_FORBIDDEN', 'no', WHO)?.exit).toBe(3);
    expect(serverErrorFailure('ERR_STREAM_UNKNOWN', 'which?', WHO)).toEqual({
      code: 'ERR_STREAM_UNKNOWN',
      message: 'which?: check --stream',
      exit: 4,
    });
    // Punch's own message (core's slots.ts) already ends with a hint to take over: one hint.
    const taken = serverErrorFailure(
      'ERR_SLOT_TAKEN',
      'the sender of "cam-wide" is held by another connection that is live; to replace it, register with takeover (punch peer --takeover)',
      WHO,
    );
    expect(taken).toMatchObject({ code: 'ERR_SLOT_TAKEN', exit: 1 });
    expect(taken?.message).toBe(
      'another agent is live as sender of "cam-wide": check it is not a second run of the same link; to replace it, run again with --takeover',
    );
    expect(taken?.message.match(/to replace it/g)).toHaveLength(1);
    expect(serverErrorFailure('ERR_RATE_LIMITED', 'slow down', WHO)).toBeUndefined();
    expect(serverErrorFailure('ERR_BAD_REQUEST', 'what?', WHO)).toBeUndefined();
  });

  it('a local port in use: exit 7, naming the port and the flag that moves it', () => {
    const o = {
      role: 'sender',
      srtListen: { host: '127.0.0.1', port: 9000 },
      srtTarget: { host: '127.0.0.1', port: 9100 },
      sourcePort: 9101,
    } as const;
    expect(localBindFailure(errno('EADDRINUSE'), o)).toEqual({
      code: 'ERR_PORT_IN_USE',
      message:
        '127.0.0.1:9000 is already in use: another agent or SRT tool holds it; choose another with --srt-listen or --srt-target',
      exit: 7,
    });
    expect(localBindFailure(errno('EADDRINUSE'), { ...o, role: 'receiver' }).message).toContain(
      "127.0.0.1:9101 (the agent's source port toward 127.0.0.1:9100) is already in use",
    );
    expect(localBindFailure(errno('EADDRNOTAVAIL', 'bind EADDRNOTAVAIL'), o)).toEqual({
      code: 'ERR_LOCAL_SOCKET',
      message: 'cannot open 127.0.0.1:9000: bind EADDRNOTAVAIL',
      exit: 7,
    });
    expect(
      mediaBindFailure(errno('EADDRINUSE'), { bind: '0.0.0.0', mediaPort: 5000 }),
    ).toMatchObject({
      code: 'ERR_PORT_IN_USE',
      message: expect.stringContaining(
        '0.0.0.0:5000 (the media socket) is already in use',
      ) as unknown,
      exit: 7,
    });
  });

  it('no STUN anywhere: exit 1, saying to pass --stun; no direct path: exit 6', () => {
    expect(NO_STUN).toMatchObject({ code: 'ERR_NO_STUN', exit: 1 });
    expect(NO_STUN.message).toContain('--stun HOST:PORT');
    const f = noPathFailure(30, undefined);
    expect(f).toMatchObject({ code: 'ERR_DIRECT_PATH_FAILED', exit: 6 });
    expect(f.message).toMatch(
      /^no direct path to the other side after 30 s, and this Punch server offers no relay\. .*symmetric NAT/,
    );
  });

  it('no path through the relay either: exit 6, naming why and the ports to open', () => {
    const f = noPathFailure(30, 'the relay could not be reached (udp 192.0.2.1:3478: no answer)');
    expect(f).toMatchObject({ code: 'ERR_NO_PATH', exit: 6 });
    expect(f.message).toContain('(the relay could not be reached (udp 192.0.2.1:3478: no answer))');
    expect(f.message).toContain('port 3478');
  });
});
