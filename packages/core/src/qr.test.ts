import { describe, expect, it } from 'vitest';
// jsqr ships CommonJS with `export default` typings, so under NodeNext TypeScript types the
// default import as the module object; at runtime that object is jsQR itself and also carries
// `jsQR.default = jsQR`, so `.default` is correct for both.
import jsqr from 'jsqr';
import { qrMatrix, qrSvg, qrTerminal } from './qr.js';

const jsQR = jsqr.default;

const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];

/** A realistic share link: exactly 300 characters, base64url token payload. */
const LONG_URL = ((): string => {
  const prefix = 'http://203.0.113.5:8787/s/nab-floor?t=p_';
  const claims = JSON.stringify({
    session: 'nab-floor',
    role: 'publisher',
    name: 'camera-2',
    exp: 1767225600,
    nonce: 'q8Zr3vKf1T0wYc9L',
    perms: ['publish', 'subscribe', 'chat'],
    room: 'main-stage',
  });
  const token = btoa(claims).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return (prefix + token + '.' + 'Sig0_-xYz'.repeat(40)).slice(0, 300);
})();

/** Paints a module grid (true = dark) black on white, `scale` px per module, plus a light border. */
function render(
  grid: readonly (readonly boolean[])[],
  scale = 4,
  quiet = 4,
): { data: Uint8ClampedArray; width: number; height: number } {
  const modules = grid.length + 2 * quiet;
  const width = modules * scale;
  const data = new Uint8ClampedArray(width * width * 4).fill(255);
  grid.forEach((line, row) => {
    expect(line).toHaveLength(grid.length);
    line.forEach((dark, col) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const x = (col + quiet) * scale + dx;
          const y = (row + quiet) * scale + dy;
          const i = (y * width + x) * 4;
          data[i] = data[i + 1] = data[i + 2] = 0;
        }
      }
    });
  });
  return { data, width, height: width };
}

/** Decodes a module grid with jsQR, black-on-white only (no inverted retry). */
function decode(
  grid: readonly (readonly boolean[])[],
  quiet = 4,
): { data: string; bytes: number[] } {
  const { data, width, height } = render(grid, 4, quiet);
  const result = jsQR(data, width, height, { inversionAttempts: 'dontInvert' });
  expect(result, 'jsQR could not decode the code').not.toBeNull();
  return { data: result!.data, bytes: result!.binaryData };
}

/** The error correction level from the format information next to the top-left finder. */
function ecLevel(m: readonly (readonly boolean[])[]): string {
  const at = (row: number, col: number): number => (m[row]![col]! ? 1 : 0);
  // Bits 14..0 along row 8 (cols 0-5, 7, 8) then up column 8 (rows 7, 5-0), per ISO/IEC 18004.
  const cells: [number, number][] = [
    [8, 0], [8, 1], [8, 2], [8, 3], [8, 4], [8, 5], [8, 7], [8, 8],
    [7, 8], [5, 8], [4, 8], [3, 8], [2, 8], [1, 8], [0, 8],
  ]; // prettier-ignore
  const bits = cells.reduce((acc, [r, c]) => (acc << 1) | at(r, c), 0) ^ 0b101010000010010;
  return ['M', 'L', 'H', 'Q'][bits >> 13]!;
}

const side = (version: number): number => 4 * version + 17;

describe('qrMatrix', () => {
  it('encodes a realistic 300-character share link that jsQR decodes back', () => {
    expect(LONG_URL).toHaveLength(300);
    const m = qrMatrix(LONG_URL);
    // 300 bytes at level M: version 12 holds 287, version 13 holds 331.
    expect(m).toHaveLength(side(13));
    expect(ecLevel(m)).toBe('M');
    const { data, bytes } = decode(m);
    expect(data).toBe(LONG_URL);
    expect(bytes).toEqual(utf8(LONG_URL));
  });

  it.each([
    'https://punch.thåst.se/s/x?t=p_abc',
    'https://punch.thåst.se/s/x?t=p_abc&n=Ålö→東京🎥',
  ])('encodes non-ASCII text as UTF-8 bytes: %s', (text) => {
    const { data, bytes } = decode(qrMatrix(text));
    expect(bytes).toEqual(utf8(text));
    expect(data).toBe(text);
  });

  it('picks the smallest version that fits at level M', () => {
    // Byte-mode capacities at M: version 1 = 14, version 2 = 26, version 3 = 42 bytes.
    expect(qrMatrix('')).toHaveLength(side(1));
    expect(qrMatrix('a'.repeat(14))).toHaveLength(side(1));
    expect(qrMatrix('a'.repeat(15))).toHaveLength(side(2));
    expect(qrMatrix('a'.repeat(26))).toHaveLength(side(2));
    expect(qrMatrix('å'.repeat(13))).toHaveLength(side(2)); // 26 bytes
    expect(qrMatrix('å'.repeat(14))).toHaveLength(side(3)); // 28 bytes
    expect(qrMatrix('http://203.0.113.5:8787/s/nab-floor')).toHaveLength(side(3));
    const m = qrMatrix('a'.repeat(15));
    expect(ecLevel(m)).toBe('M');
    expect(decode(m).data).toBe('a'.repeat(15));
  });

  it('fills version 40 to capacity (2,331 bytes) and still decodes', () => {
    const text = 'ø'.repeat(8) + LONG_URL.repeat(8).slice(0, 2331 - 16); // 'ø' is 2 bytes
    expect(utf8(text)).toHaveLength(2331);
    const m = qrMatrix(text);
    expect(m).toHaveLength(side(40));
    expect(decode(m).data).toBe(text);
  });

  it('rejects over-long input with a clear RangeError', () => {
    const tooLong = 'a'.repeat(2332);
    expect(() => qrMatrix(tooLong)).toThrow(RangeError);
    expect(() => qrMatrix(tooLong)).toThrow(/too long \(2332 bytes as UTF-8; at most 2331/);
    expect(() => qrMatrix('x'.repeat(3000))).toThrow(/too long \(3000 bytes/);
    // Counted in UTF-8 bytes, not characters: 1,166 × 'å' is 2,332 bytes.
    expect(() => qrMatrix('å'.repeat(1166))).toThrow(/too long \(2332 bytes/);
    expect(() => qrSvg(tooLong)).toThrow(RangeError);
    expect(() => qrTerminal(tooLong)).toThrow(RangeError);
  });
});

describe('qrSvg', () => {
  /** Rasterises our own SVG format back into a module grid (including the quiet zone). */
  function parseSvg(svg: string): boolean[][] {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain('shape-rendering="crispEdges"');
    const viewBox = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
    expect(viewBox).not.toBeNull();
    const size = Number(viewBox![1]);
    expect(Number(viewBox![2])).toBe(size);
    expect(svg).toContain(`<rect width="${size}" height="${size}" fill="#fff"/>`);
    const paths = [...svg.matchAll(/<path fill="#000" d="([^"]*)"\/>/g)];
    expect(paths).toHaveLength(1);
    expect(svg.match(/<path/g)).toHaveLength(1);

    const grid = Array.from({ length: size }, () => Array<boolean>(size).fill(false));
    const d = paths[0]![1]!;
    const run = /M(\d+) (\d+)h(\d+)v1h-(\d+)z/y;
    while (run.lastIndex < d.length) {
      const start = run.lastIndex;
      const match = run.exec(d);
      expect(
        match,
        `unparsable path data at ${start}: ${d.slice(start, start + 30)}`,
      ).not.toBeNull();
      const [, x, y, w, back] = match!.map(Number) as [number, number, number, number, number];
      expect(back).toBe(w);
      expect(w).toBeGreaterThan(0);
      for (let col = x; col < x + w; col++) {
        const row = grid[y]!;
        expect(col).toBeLessThan(size);
        expect(row[col], `module ${col},${y} painted twice`).toBe(false);
        row[col] = true;
      }
    }
    return grid;
  }

  it.each([
    ['300-character URL', LONG_URL],
    ['UTF-8 URL', 'https://punch.thåst.se/s/x?t=p_abc'],
  ])('renders a scalable SVG that rasterises back to a decodable code (%s)', (_, text) => {
    const svg = qrSvg(text);
    expect(svg).not.toMatch(/<svg[^>]* (width|height)=/);
    const grid = parseSvg(svg);
    const m = qrMatrix(text);
    expect(grid).toHaveLength(m.length + 8);
    // 4-module light quiet zone, then exactly the matrix.
    expect(grid.slice(4, -4).map((row) => row.slice(4, -4))).toEqual(m);
    for (const [i, row] of grid.entries()) {
      if (i < 4 || i >= grid.length - 4) expect(row.every((dark) => !dark)).toBe(true);
      expect(
        row
          .slice(0, 4)
          .concat(row.slice(-4))
          .every((dark) => !dark),
      ).toBe(true);
    }
    expect(decode(grid, 0).data).toBe(text);
  });
});

describe('qrTerminal', () => {
  const BLOCKS: Record<string, [boolean, boolean]> = {
    '█': [true, true],
    '▀': [true, false],
    '▄': [false, true],
    ' ': [false, false],
  };

  /** Parses half blocks back into a grid of dark modules (a block is a *light* module). */
  function parseTerminal(out: string): boolean[][] {
    const lines = out.split('\n');
    const width = Array.from(lines[0]!).length;
    const rows: boolean[][] = [];
    for (const line of lines) {
      const chars = Array.from(line);
      expect(chars).toHaveLength(width);
      const top: boolean[] = [];
      const bottom: boolean[] = [];
      for (const ch of chars) {
        const lit = BLOCKS[ch];
        expect(lit, `unexpected character ${JSON.stringify(ch)}`).toBeDefined();
        top.push(!lit![0]);
        bottom.push(!lit![1]);
      }
      rows.push(top, bottom);
    }
    // The module count plus quiet zone is odd, so the last half row is terminal background.
    expect(rows.pop()!.every((dark) => dark)).toBe(true);
    return rows;
  }

  it.each([
    ['300-character URL', LONG_URL],
    ['UTF-8 URL', 'https://punch.thåst.se/s/x?t=p_abc'],
  ])('prints inverted half blocks that parse back to a decodable code (%s)', (_, text) => {
    const out = qrTerminal(text);
    expect(out.endsWith('\n')).toBe(false);
    const m = qrMatrix(text);
    expect(out.split('\n')).toHaveLength(Math.ceil((m.length + 4) / 2));
    const grid = parseTerminal(out);
    expect(grid).toHaveLength(m.length + 4);
    // 2-module light quiet zone (printed as blocks), then exactly the matrix.
    expect(grid.slice(2, -2).map((row) => row.slice(2, -2))).toEqual(m);
    expect(out.split('\n')[0]).toBe('█'.repeat(m.length + 4));
    for (const [i, row] of grid.entries()) {
      if (i < 2 || i >= grid.length - 2) expect(row.every((dark) => !dark)).toBe(true);
      expect(
        row
          .slice(0, 2)
          .concat(row.slice(-2))
          .every((dark) => !dark),
      ).toBe(true);
    }
    expect(decode(grid, 2).data).toBe(text);
  });
});
