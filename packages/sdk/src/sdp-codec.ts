import type { SdpType, WireDescription } from './envelope.js';

/**
 * Fits a session description into Punch's 10 KiB `signal` payload. An offer with audio, video
 * and every codec a browser supports runs to 6–9 KiB, more with several tracks; deflated it is
 * about a third of that. The plain form is used whenever it fits, so small calls stay readable
 * in logs; the compressed form uses the `deflate` CompressionStream that browsers, Node ≥ 18,
 * Deno and Workers all have.
 */

/** Above this many characters of SDP the description is sent deflated (payload limit 10 KiB). */
export const PLAIN_SDP_LIMIT = 8 * 1024;
/** Largest SDP accepted after inflating (guards against a deflate bomb). */
export const MAX_SDP = 256 * 1024;

async function pipe(
  data: Uint8Array<ArrayBuffer>,
  stream: CompressionStream | DecompressionStream,
  max: number,
): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // The write and close promises settle as the reader drains; errors surface through read().
  writer.write(data).catch(() => undefined);
  writer.close().catch(() => undefined);
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new RangeError(`an SDP is at most ${max} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * The wire form of a local description: plain when small, deflated otherwise.
 *
 * @example
 * const wire = await encodeDescription({ type: 'offer', sdp: pc.localDescription.sdp });
 */
export async function encodeDescription(d: {
  type: SdpType;
  sdp: string;
}): Promise<WireDescription> {
  if (d.sdp.length <= PLAIN_SDP_LIMIT || typeof CompressionStream === 'undefined') {
    return { type: d.type, sdp: d.sdp };
  }
  const packed = await pipe(
    new TextEncoder().encode(d.sdp),
    new CompressionStream('deflate'),
    MAX_SDP,
  );
  return { type: d.type, sdpz: toBase64(packed) };
}

/**
 * The description to apply from its wire form. Throws on a corrupt or oversized `sdpz`.
 *
 * @example
 * await pc.setRemoteDescription(await decodeDescription(envelope.description));
 */
export async function decodeDescription(
  w: WireDescription,
): Promise<{ type: SdpType; sdp: string }> {
  if ('sdp' in w) return { type: w.type, sdp: w.sdp };
  const bytes = await pipe(fromBase64(w.sdpz), new DecompressionStream('deflate'), MAX_SDP);
  return { type: w.type, sdp: new TextDecoder().decode(bytes) };
}
