import TSL5 from 'tsl-umd-v5';
import { describe, expect, it } from 'vitest';
import { DleDeframer, decodePacket, encodePacket, wrapDle, type TslDisplay } from './tsl5.js';

const display = (over: Partial<TslDisplay> = {}): TslDisplay => ({
  index: 1,
  rh: 0,
  text: 0,
  lh: 0,
  brightness: 3,
  label: '',
  ...over,
});

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('TSL UMD v5.0 framing', () => {
  it('encodes the spec layout: PBC, VER, FLAGS, SCREEN, then INDEX, CONTROL, LENGTH, TEXT', () => {
    const bytes = encodePacket({
      screen: 0,
      displays: [display({ index: 3, rh: 1, text: 1, lh: 2, label: 'cam' })],
    });
    // PBC 13 (15 bytes - 2), VER 0, FLAGS 0, SCREEN 0, INDEX 3,
    // CONTROL = rh 1 | text 1<<2 | lh 2<<4 | brightness 3<<6 = 0xe5, LENGTH 3, "cam".
    expect(hex(bytes)).toBe('0d000000000003' + '00e500' + '0300' + '63616d');
  });

  it('decodes what it encodes, several displays and Unicode labels included', () => {
    const packet = {
      screen: 7,
      displays: [
        display({ index: 1, rh: 1, label: 'Kamera 1 – weit' }),
        display({ index: 65534, lh: 2 }),
      ],
    };
    expect(decodePacket(encodePacket(packet, true))).toEqual({ ok: true, packet });
  });

  it("reads tsl-umd-v5's packets (a real sender's), wrapped or not", () => {
    const umd = new TSL5();
    const tally = {
      screen: 0,
      index: 4,
      display: { rh_tally: 2, text_tally: 2, lh_tally: 0, brightness: 3, text: 'cam-close' },
    };
    const plain = decodePacket(umd.constructPacket({ ...tally }, false));
    expect(plain).toEqual({
      ok: true,
      packet: { screen: 0, displays: [display({ index: 4, rh: 2, text: 2, label: 'cam-close' })] },
    });
    const d = new DleDeframer();
    const [framed] = d.push(umd.constructPacket({ ...tally }, true));
    expect(framed && decodePacket(framed)).toEqual(plain);
  });

  it('is read by tsl-umd-v5 (a real receiver)', () => {
    const umd = new TSL5();
    const got: TSL5.Received[] = [];
    umd.on('message', (m) => got.push(m));
    umd.processTally(
      encodePacket({
        screen: 0,
        displays: [display({ index: 9, rh: 1, text: 1, lh: 1, label: 'cam-wide' })],
      }),
    );
    expect(got[0]).toMatchObject({
      index: 9,
      display: { rh_tally: 1, text_tally: 1, lh_tally: 1, brightness: 3, text: 'cam-wide' },
    });
  });

  it('stuffs DLE on a stream and the deframer undoes it, across chunk boundaries', () => {
    // Index 0xfe and a label with 0xfe: both must be stuffed.
    const packet = encodePacket({ screen: 0xfe, displays: [display({ index: 0xfe, rh: 1 })] });
    const wire = wrapDle(packet);
    expect(wire.length).toBeGreaterThan(packet.length + 2);
    const d = new DleDeframer();
    const got = [...wire].flatMap((b) => d.push(Uint8Array.of(b)));
    expect(got.map(hex)).toEqual([hex(packet)]);
    // Two packets in one chunk, junk before the first.
    const two = Uint8Array.from([0x41, 0x42, ...wire, ...wire]);
    expect(d.push(two).map(hex)).toEqual([hex(packet), hex(packet)]);
    expect(d.dropped).toBe(2);
  });

  it('refuses malformed packets with a reason, never a throw', () => {
    const good = encodePacket({ screen: 0, displays: [display({ label: 'abc' })] });
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(1, 2, 3),
      good.slice(0, good.length - 1), // byte count does not match
      Uint8Array.from([...good.slice(0, 2), 5, ...good.slice(3)]), // version 5
      (() => {
        const b = Buffer.from(good);
        b.writeUInt16LE(200, 10); // LENGTH past the end
        return new Uint8Array(b);
      })(),
      new Uint8Array(3000),
    ];
    for (const c of cases) {
      const r = decodePacket(c);
      expect(r.ok).toBe(false);
    }
  });

  it('bounds a packet that never ends', () => {
    const d = new DleDeframer();
    const start = Uint8Array.of(0xfe, 0x02, 0xff, 0xff);
    d.push(start);
    for (let i = 0; i < 3; i++) d.push(new Uint8Array(1000));
    expect(d.dropped).toBeGreaterThan(2000);
  });
});
