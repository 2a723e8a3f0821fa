/**
 * QR codes for share links: a module matrix, an SVG rendering and a terminal rendering.
 *
 * Encoding is always byte mode with the text's UTF-8 bytes, error correction level 'M' and the
 * smallest version (1–40) that fits. Web standards only.
 */

import qrcode from 'qrcode-generator';

/** Byte-mode capacity of a version 40 symbol at error correction 'M' (ISO/IEC 18004, table 7). */
const MAX_BYTES_M = 2331;

/** Light border around the SVG rendering, in modules (the standard quiet zone). */
const SVG_QUIET_ZONE = 4;

/** Light border around the terminal rendering, in modules (enough for phone scanners). */
const TERMINAL_QUIET_ZONE = 2;

const encoder = new TextEncoder();

/**
 * The QR code's module matrix for `text` (byte mode, UTF-8, error correction 'M', smallest
 * version that fits). `matrix[row][col]` is `true` for a dark module; the matrix is square,
 * 21–177 modules a side, without a quiet zone.
 *
 * Lone UTF-16 surrogates are encoded as U+FFFD, as `TextEncoder` does.
 *
 * @throws RangeError if the UTF-8 encoding of `text` exceeds 2,331 bytes (the capacity of a
 *   version 40 code at level 'M').
 *
 * @example
 * const m = qrMatrix('http://203.0.113.5:8787/s/nab-floor');
 * m.length // 29 (version 3)
 * m[0]?.[0] // true (top-left finder pattern)
 */
export function qrMatrix(text: string): boolean[][] {
  const bytes = encoder.encode(text);
  if (bytes.length > MAX_BYTES_M) {
    throw new RangeError(
      `QR code: text is too long (${bytes.length} bytes as UTF-8; at most ${MAX_BYTES_M} fit in a version 40 code at error correction level M)`,
    );
  }
  // qrcode-generator's byte mode maps each UTF-16 code unit to one byte (`charCode & 0xff`), which
  // mangles anything outside Latin-1. Instead of swapping its global `stringToBytes`, hand it a
  // "binary string" whose code units are exactly our UTF-8 bytes.
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);

  const qr = qrcode(0, 'M');
  qr.addData(binary, 'Byte');
  try {
    qr.make();
  } catch (err) {
    // The library throws plain strings (e.g. 'code length overflow. (…)'); the length check above
    // should make this unreachable, but never let a non-Error escape.
    throw new RangeError(`QR code: could not encode text: ${String(err)}`);
  }

  const size = qr.getModuleCount();
  const matrix: boolean[][] = [];
  for (let row = 0; row < size; row++) {
    const line: boolean[] = [];
    for (let col = 0; col < size; col++) line.push(qr.isDark(row, col));
    matrix.push(line);
  }
  return matrix;
}

/**
 * An SVG document for the QR code of `text`: `viewBox` in module units with no fixed
 * `width`/`height` (so it scales to its container), `shape-rendering="crispEdges"`, a white
 * background including a 4-module quiet zone, and the dark modules as a single black `<path>`.
 *
 * The path is a sequence of horizontal runs, one `M{x} {y}h{w}v1h-{w}z` per run of adjacent dark
 * modules in a row, in integer module coordinates (including the quiet-zone offset).
 *
 * @throws RangeError for over-long text, as {@link qrMatrix}.
 *
 * @example
 * const svg = qrSvg('http://203.0.113.5:8787/s/nab-floor');
 * // '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 37 37" shape-rendering="crispEdges">'
 * // + '<rect width="37" height="37" fill="#fff"/>'
 * // + '<path fill="#000" d="M4 4h7v1h-7zM12 4h1v1h-1z…"/></svg>'
 * img.src = `data:image/svg+xml,${encodeURIComponent(svg)}`;
 */
export function qrSvg(text: string): string {
  const matrix = qrMatrix(text);
  const size = matrix.length + 2 * SVG_QUIET_ZONE;
  let d = '';
  matrix.forEach((line, row) => {
    const y = row + SVG_QUIET_ZONE;
    let col = 0;
    while (col < line.length) {
      if (!line[col]) {
        col++;
        continue;
      }
      const start = col;
      while (col < line.length && line[col]) col++;
      const w = col - start;
      d += `M${start + SVG_QUIET_ZONE} ${y}h${w}v1h-${w}z`;
    }
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges">` +
    `<rect width="${size}" height="${size}" fill="#fff"/>` +
    `<path fill="#000" d="${d}"/>` +
    `</svg>`
  );
}

/**
 * The QR code of `text` as text for a terminal: each character covers two module rows using the
 * Unicode half blocks `▀` (top), `▄` (bottom), `█` (both) and space (neither), with a 2-module
 * quiet zone. Colours are inverted so the code scans on a dark-background terminal: *light*
 * modules (and the quiet zone) are printed as blocks in the foreground colour, dark modules are
 * left as the terminal's background. Lines are joined with `"\n"` (no trailing newline). The
 * bottom half of the last line, which lies below the quiet zone, is left as background.
 *
 * @throws RangeError for over-long text, as {@link qrMatrix}.
 *
 * @example
 * console.log(qrTerminal('http://203.0.113.5:8787/s/nab-floor'));
 * // █████████████████████████████████
 * // ██ ▄▄▄▄▄ █ █▀▄██▀ ▄█▀▄▀█ ▄▄▄▄▄ ██
 * // ██ █   █ █▀█▄██▄▄▄█▀  ▀█ █   █ ██
 * // … (17 lines in all, 33 characters wide)
 */
export function qrTerminal(text: string): string {
  const matrix = qrMatrix(text);
  const q = TERMINAL_QUIET_ZONE;
  const size = matrix.length + 2 * q;
  /** Whether the cell at (row, col) of the bordered grid is printed as a block (light module). */
  const lit = (row: number, col: number): boolean => {
    if (row >= size) return false; // below the quiet zone: terminal background
    const dark = matrix[row - q]?.[col - q] ?? false; // outside the matrix: quiet zone, light
    return !dark;
  };
  const lines: string[] = [];
  for (let row = 0; row < size; row += 2) {
    let line = '';
    for (let col = 0; col < size; col++) {
      const top = lit(row, col);
      const bottom = lit(row + 1, col);
      line += top ? (bottom ? '█' : '▀') : bottom ? '▄' : ' ';
    }
    lines.push(line);
  }
  return lines.join('\n');
}
