/**
 * TSL UMD protocol v5.0 framing, pure: packets to bytes and back, and the DLE/STX wrapper that
 * carries them over a byte stream (TCP). From TSL Products' "TSL UMD protocol" v5.0:
 *
 *   PBC (16-bit LE: bytes that follow) / VER (8, 0 for v5.00) / FLAGS (8: bit 0 = UTF-16LE
 *   text, bit 1 = screen control data follows) / SCREEN (16) / DMSG…
 *   DMSG = INDEX (16) / CONTROL (16: RH tally bits 0-1, text tally 2-3, LH tally 4-5,
 *   brightness 6-7, bit 15 = control data instead of text) / LENGTH (16) / TEXT (LENGTH bytes)
 *
 * 16-bit values are little-endian; one packet is at most 2048 bytes. Over a stream each packet
 * starts with DLE/STX (0xFE 0x02) and a DLE inside it is doubled; byte counts ignore the
 * stuffing. Tally values: 0 off, 1 red, 2 green, 3 amber.
 */

/** 0 off, 1 red, 2 green, 3 amber. */
export type Lamp = 0 | 1 | 2 | 3;

export interface TslDisplay {
  readonly index: number;
  /** Right-hand, text and left-hand tally. */
  readonly rh: Lamp;
  readonly text: Lamp;
  readonly lh: Lamp;
  /** 0 (off) to 3 (full). */
  readonly brightness: 0 | 1 | 2 | 3;
  /** The label (UMD text); empty when the message carried control data instead. */
  readonly label: string;
}

export interface TslPacket {
  readonly screen: number;
  readonly displays: readonly TslDisplay[];
}

export type DecodeResult =
  | { readonly ok: true; readonly packet: TslPacket }
  | { readonly ok: false; readonly reason: string };

export const MAX_PACKET = 2048;
const DLE = 0xfe;
const STX = 0x02;
const FLAG_UNICODE = 0x01;
const FLAG_SCONTROL = 0x02;
const CONTROL_DATA = 0x8000;

const lamp = (bits: number): Lamp => (bits & 0b11) as Lamp;

/**
 * One packet's bytes (unwrapped, as UDP carries it). Labels are ASCII unless `unicode`.
 *
 * @example
 * encodePacket({ screen: 0, displays: [{ index: 1, rh: 1, text: 1, lh: 0, brightness: 3, label: 'cam-wide' }] });
 */
export function encodePacket(packet: TslPacket, unicode = false): Uint8Array {
  const texts = packet.displays.map((d) =>
    unicode ? Buffer.from(d.label, 'utf16le') : Buffer.from(asciiOnly(d.label), 'latin1'),
  );
  const size = 6 + texts.reduce((n, t) => n + 6 + t.length, 0);
  if (size > MAX_PACKET) throw new RangeError(`a TSL 5.0 packet is at most ${MAX_PACKET} bytes`);
  const out = Buffer.alloc(size);
  out.writeUInt16LE(size - 2, 0);
  out.writeUInt8(0, 2);
  out.writeUInt8(unicode ? FLAG_UNICODE : 0, 3);
  out.writeUInt16LE(packet.screen & 0xffff, 4);
  let at = 6;
  packet.displays.forEach((d, i) => {
    const text = texts[i] ?? Buffer.alloc(0);
    const control = d.rh | (d.text << 2) | (d.lh << 4) | (d.brightness << 6);
    out.writeUInt16LE(d.index & 0xffff, at);
    out.writeUInt16LE(control, at + 2);
    out.writeUInt16LE(text.length, at + 4);
    text.copy(out, at + 6);
    at += 6 + text.length;
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Printable ASCII only: a label is for a person, and a stray byte could be a control code. */
function asciiOnly(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/**
 * Reads one unwrapped packet; anything malformed is a reason, never a throw. A screen-control
 * packet (FLAGS bit 1) decodes to no displays: it carries no tally.
 *
 * @example
 * decodePacket(encodePacket({ screen: 0, displays: [] })); // { ok: true, packet: { screen: 0, displays: [] } }
 */
export function decodePacket(bytes: Uint8Array): DecodeResult {
  if (bytes.length < 6)
    return { ok: false, reason: `${bytes.length} bytes: shorter than a header` };
  if (bytes.length > MAX_PACKET) return { ok: false, reason: `over ${MAX_PACKET} bytes` };
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const pbc = b.readUInt16LE(0);
  if (pbc + 2 !== b.length)
    return { ok: false, reason: `byte count ${pbc} does not match the ${b.length - 2} bytes sent` };
  const version = b.readUInt8(2);
  if (version !== 0) return { ok: false, reason: `version ${version} (only 5.00 is known)` };
  const flags = b.readUInt8(3);
  const screen = b.readUInt16LE(4);
  if ((flags & FLAG_SCONTROL) !== 0) return { ok: true, packet: { screen, displays: [] } };
  const displays: TslDisplay[] = [];
  let at = 6;
  while (at < b.length) {
    if (at + 6 > b.length) return { ok: false, reason: `a display message cut short at ${at}` };
    const index = b.readUInt16LE(at);
    const control = b.readUInt16LE(at + 2);
    const length = b.readUInt16LE(at + 4);
    if (at + 6 + length > b.length)
      return { ok: false, reason: `display ${index}: ${length} text bytes announced, fewer sent` };
    const raw = b.subarray(at + 6, at + 6 + length);
    const label =
      (control & CONTROL_DATA) !== 0
        ? ''
        : (flags & FLAG_UNICODE) !== 0
          ? raw.toString('utf16le')
          : asciiOnly(raw.toString('latin1'));
    displays.push({
      index,
      rh: lamp(control),
      text: lamp(control >> 2),
      lh: lamp(control >> 4),
      brightness: lamp(control >> 6),
      label,
    });
    at += 6 + length;
  }
  return { ok: true, packet: { screen, displays } };
}

/**
 * A packet wrapped for a byte stream: DLE/STX first, every DLE inside doubled.
 *
 * @example
 * wrapDle(new Uint8Array([0x02, 0x00, 0xfe])); // fe 02 02 00 fe fe
 */
export function wrapDle(packet: Uint8Array): Uint8Array {
  const out: number[] = [DLE, STX];
  for (const byte of packet) {
    out.push(byte);
    if (byte === DLE) out.push(DLE);
  }
  return Uint8Array.from(out);
}

/**
 * Splits a TCP byte stream into packets: feed it chunks as they come, it returns the packets
 * they complete. Bytes before the first DLE/STX are junk (counted), a packet that grows past
 * 2048 bytes is dropped (counted): a broken sender costs memory bounded by one packet.
 */
export class DleDeframer {
  #packet: number[] | undefined;
  #escape = false;
  /** Bytes dropped: outside any packet, or in an oversized one. */
  dropped = 0;

  push(chunk: Uint8Array): Uint8Array[] {
    const done: Uint8Array[] = [];
    for (const byte of chunk) {
      if (this.#escape) {
        this.#escape = false;
        if (byte === STX) {
          // A new packet starts; the one before it (if any) is complete.
          this.#finish(done);
          this.#packet = [];
          continue;
        }
        if (byte === DLE) {
          this.#add(DLE);
          continue;
        }
        // DLE then anything else is not in the spec: drop what was being built.
        this.#drop();
        continue;
      }
      if (byte === DLE) {
        this.#escape = true;
        continue;
      }
      this.#add(byte);
    }
    // The packet's own byte count says when it is complete: no need to wait for the next DLE/STX.
    this.#finish(done, true);
    return done;
  }

  #add(byte: number): void {
    if (this.#packet === undefined) {
      this.dropped++;
      return;
    }
    this.#packet.push(byte);
    if (this.#packet.length > MAX_PACKET) this.#drop();
  }

  #drop(): void {
    this.dropped += this.#packet?.length ?? 1;
    this.#packet = undefined;
  }

  /** Moves the current packet to `done` when it is complete (or, with `onlyComplete` off, always). */
  #finish(done: Uint8Array[], onlyComplete = false): void {
    const p = this.#packet;
    if (p === undefined || p.length === 0) return;
    const complete = p.length >= 2 && p.length >= ((p[0] ?? 0) | ((p[1] ?? 0) << 8)) + 2;
    if (onlyComplete && !complete) return;
    done.push(Uint8Array.from(p));
    this.#packet = onlyComplete ? undefined : this.#packet;
  }
}
