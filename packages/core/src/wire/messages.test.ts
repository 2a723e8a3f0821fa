import { describe, it, expect } from 'vitest';
import { PunchError, type ErrorCode } from '../errors.js';
import { MAX_FRAME_BYTES, decodeClientMessage } from './messages.js';

function codeOf(text: string): ErrorCode | 'ok' {
  try {
    decodeClientMessage(text);
    return 'ok';
  } catch (err) {
    if (err instanceof PunchError) return err.code;
    throw err;
  }
}

// Golden fixtures: the exact frames a client sends (DESIGN.md, "WebSocket protocol (v1)").
const GOLDEN: readonly { name: string; frame: string; decoded: unknown }[] = [
  {
    name: 'register (sender)',
    frame: '{"type":"register","stream":"cam-wide","role":"sender"}',
    decoded: { type: 'register', stream: 'cam-wide', role: 'sender' },
  },
  {
    name: 'register (receiver)',
    frame: '{"type":"register","stream":"cam-close","role":"receiver"}',
    decoded: { type: 'register', stream: 'cam-close', role: 'receiver' },
  },
  {
    name: 'endpoint with public and local',
    frame:
      '{"type":"endpoint","stream":"cam-wide","role":"sender","public":{"ip":"203.0.113.7","port":40001},"local":[{"ip":"192.168.1.20","port":9000},{"ip":"fe80::1","port":9000}]}',
    decoded: {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '203.0.113.7', port: 40001 },
      local: [
        { ip: '192.168.1.20', port: 9000 },
        { ip: 'fe80::1', port: 9000 },
      ],
    },
  },
  {
    name: 'endpoint with an IPv6 public address only',
    frame:
      '{"type":"endpoint","stream":"cam-wide","role":"receiver","public":{"ip":"2001:db8::7","port":65535}}',
    decoded: {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'receiver',
      public: { ip: '2001:db8::7', port: 65535 },
    },
  },
  {
    name: 'endpoint with local only',
    frame: '{"type":"endpoint","stream":"cam-wide","role":"sender","local":[]}',
    decoded: { type: 'endpoint', stream: 'cam-wide', role: 'sender', local: [] },
  },
  {
    name: 'health with full stats',
    frame:
      '{"type":"health","stream":"cam-wide","role":"sender","stats":{"path":"direct","rttMs":12.5,"sendBps":4000000,"recvBps":12000,"sendBytes":1048576,"recvBytes":2048,"sendPackets":800,"recvPackets":40,"lossPct":0.25,"retransmits":3,"srt":{"msRTT":12.5,"mbpsBandwidth":94.2,"version":"1.5.3","tsbpd":true}}}',
    decoded: {
      type: 'health',
      stream: 'cam-wide',
      role: 'sender',
      stats: {
        path: 'direct',
        rttMs: 12.5,
        sendBps: 4000000,
        recvBps: 12000,
        sendBytes: 1048576,
        recvBytes: 2048,
        sendPackets: 800,
        recvPackets: 40,
        lossPct: 0.25,
        retransmits: 3,
        srt: { msRTT: 12.5, mbpsBandwidth: 94.2, version: '1.5.3', tsbpd: true },
      },
    },
  },
  {
    name: 'health with empty stats',
    frame: '{"type":"health","stream":"cam-wide","role":"receiver","stats":{}}',
    decoded: { type: 'health', stream: 'cam-wide', role: 'receiver', stats: {} },
  },
  {
    name: 'tally',
    frame: '{"type":"tally","program":["cam-wide"],"preview":["cam-close","cam-3"]}',
    decoded: { type: 'tally', program: ['cam-wide'], preview: ['cam-close', 'cam-3'] },
  },
  {
    name: 'tally cleared',
    frame: '{"type":"tally","program":[],"preview":[]}',
    decoded: { type: 'tally', program: [], preview: [] },
  },
  { name: 'ping', frame: '{"type":"ping"}', decoded: { type: 'ping' } },
];

describe('decodeClientMessage: golden frames', () => {
  it.each(GOLDEN)('$name', ({ frame, decoded }) => {
    expect(decodeClientMessage(frame)).toEqual(decoded);
  });

  it('covers every client message type', () => {
    const types = new Set(GOLDEN.map((g) => (g.decoded as { type: string }).type));
    expect([...types].sort()).toEqual(['endpoint', 'health', 'ping', 'register', 'tally']);
  });

  it('accepts JSON whitespace and key order', () => {
    expect(
      decodeClientMessage('  {\n "role" : "sender",\t"stream":"cam-wide", "type":"register" }\n'),
    ).toEqual({ type: 'register', stream: 'cam-wide', role: 'sender' });
  });
});

describe('decodeClientMessage: refusals', () => {
  const refused: readonly [string, string][] = [
    // not JSON / not an object
    ['empty', ''],
    ['truncated', '{"type":"ping"'],
    ['trailing junk', '{"type":"ping"} x'],
    ['single quotes', "{'type':'ping'}"],
    ['null', 'null'],
    ['array', '[{"type":"ping"}]'],
    ['string', '"ping"'],
    ['number', '42'],
    // type
    ['no type', '{"stream":"cam-wide","role":"sender"}'],
    ['unknown type', '{"type":"subscribe","stream":"cam-wide"}'],
    ['server type from a client', '{"type":"welcome"}'],
    ['type not a string', '{"type":1}'],
    // extra fields (strict)
    ['extra on ping', '{"type":"ping","x":1}'],
    ['extra on register', '{"type":"register","stream":"cam-wide","role":"sender","admin":true}'],
    [
      'extra inside endpoint',
      '{"type":"endpoint","stream":"cam-wide","role":"sender","public":{"ip":"203.0.113.7","port":1,"x":0}}',
    ],
    ['extra in stats', '{"type":"health","stream":"cam-wide","role":"sender","stats":{"cpu":5}}'],
    ['extra on tally', '{"type":"tally","program":[],"preview":[],"live":[]}'],
    // roles and names
    ['role admin', '{"type":"register","stream":"cam-wide","role":"admin"}'],
    ['missing role', '{"type":"register","stream":"cam-wide"}'],
    ['uppercase name', '{"type":"register","stream":"Cam-wide","role":"sender"}'],
    ['name with _', '{"type":"register","stream":"cam_wide","role":"sender"}'],
    ['name starting with -', '{"type":"register","stream":"-cam","role":"sender"}'],
    ['name of 1 char', '{"type":"register","stream":"c","role":"sender"}'],
    ['name of 64 chars', `{"type":"register","stream":"${'c'.repeat(64)}","role":"sender"}`],
    ['name with slash', '{"type":"register","stream":"cam/wide","role":"sender"}'],
    ['bad name in tally', '{"type":"tally","program":["CAM"],"preview":[]}'],
    // IPs and ports
    ...(
      [
        ['ip 999.1.1.1', '"999.1.1.1"', '1'],
        ['ip hostname', '"example.com"', '1'],
        ['ip empty', '""', '1'],
        ['ip with port', '"203.0.113.7:9000"', '1'],
        ['ip number', '3405803783', '1'],
        ['ipv6 garbage', '"2001:db8:::1::"', '1'],
        ['port 0', '"203.0.113.7"', '0'],
        ['port 65536', '"203.0.113.7"', '65536'],
        ['port negative', '"203.0.113.7"', '-1'],
        ['port fractional', '"203.0.113.7"', '80.5'],
        ['port string', '"203.0.113.7"', '"80"'],
      ] as const
    ).map(([name, ip, port]): [string, string] => [
      name,
      `{"type":"endpoint","stream":"cam-wide","role":"sender","public":{"ip":${ip},"port":${port}}}`,
    ]),
    [
      'bad local endpoint',
      '{"type":"endpoint","stream":"cam-wide","role":"sender","local":[{"ip":"10.0.0.300","port":9000}]}',
    ],
    [
      'more than 8 local endpoints',
      `{"type":"endpoint","stream":"cam-wide","role":"sender","local":[${new Array(9).fill('{"ip":"10.0.0.1","port":9000}').join(',')}]}`,
    ],
    // stats
    [
      'loss over 100%',
      '{"type":"health","stream":"cam-wide","role":"sender","stats":{"lossPct":101}}',
    ],
    ['negative rtt', '{"type":"health","stream":"cam-wide","role":"sender","stats":{"rttMs":-1}}'],
    ['bad path', '{"type":"health","stream":"cam-wide","role":"sender","stats":{"path":"tcp"}}'],
    ['stats missing', '{"type":"health","stream":"cam-wide","role":"sender"}'],
    [
      'too many tally entries',
      `{"type":"tally","program":[${Array.from({ length: 65 }, (_, i) => `"cam-${i}"`).join(',')}],"preview":[]}`,
    ],
  ];

  it.each(refused)('%s → ERR_BAD_REQUEST', (_name, frame) => {
    expect(codeOf(frame)).toBe('ERR_BAD_REQUEST');
  });

  it('names the offending field in the detail', () => {
    try {
      decodeClientMessage(
        '{"type":"endpoint","stream":"cam-wide","role":"sender","public":{"ip":"203.0.113.7","port":0}}',
      );
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PunchError);
      expect((err as PunchError).message).toContain('public.port');
    }
  });

  it('a 63-character name and port 1 are at the edge but valid', () => {
    const name = 'c'.repeat(63);
    expect(codeOf(`{"type":"register","stream":"${name}","role":"sender"}`)).toBe('ok');
    expect(
      codeOf(
        '{"type":"endpoint","stream":"cam-wide","role":"sender","public":{"ip":"203.0.113.7","port":1}}',
      ),
    ).toBe('ok');
  });
});

describe('decodeClientMessage: size', () => {
  const padded = (bytes: number): string => {
    const base = '{"type":"ping"}';
    return base.slice(0, -1) + ' '.repeat(bytes - base.length) + '}';
  };

  it(`accepts exactly ${MAX_FRAME_BYTES} bytes; one more is ERR_PAYLOAD_TOO_LARGE`, () => {
    expect(MAX_FRAME_BYTES).toBe(16 * 1024);
    expect(padded(MAX_FRAME_BYTES)).toHaveLength(MAX_FRAME_BYTES);
    expect(decodeClientMessage(padded(MAX_FRAME_BYTES))).toEqual({ type: 'ping' });
    expect(codeOf(padded(MAX_FRAME_BYTES + 1))).toBe('ERR_PAYLOAD_TOO_LARGE');
  });

  it('counts UTF-8 bytes, not UTF-16 code units', () => {
    // 9000 "é" are 9000 code units but 18000 bytes: too large, not merely a bad request.
    const frame = `{"type":"ping","x":"${'é'.repeat(9000)}"}`;
    expect(frame.length).toBeLessThan(MAX_FRAME_BYTES);
    expect(codeOf(frame)).toBe('ERR_PAYLOAD_TOO_LARGE');
  });

  it('checks size before parsing: an oversize non-JSON frame is too large, not malformed', () => {
    expect(codeOf('x'.repeat(MAX_FRAME_BYTES + 1))).toBe('ERR_PAYLOAD_TOO_LARGE');
  });

  it('the size error maps to close code 1009', () => {
    try {
      decodeClientMessage(padded(MAX_FRAME_BYTES + 1));
      expect.unreachable();
    } catch (err) {
      expect((err as PunchError).closeCode).toBe(1009);
      expect((err as PunchError).status).toBe(413);
    }
  });
});
