/** Session and stream names: `^[a-z0-9][a-z0-9-]{1,62}$` (DESIGN.md, "Names"). */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** True when `name` is a valid session or stream name. */
export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

/**
 * The session name in a URL path segment (percent-decoded), or undefined when the segment is
 * malformed or names no possible session: hosts answer that with 404 before any token check.
 *
 * @example
 * nameFromPath('nab-floor'); // 'nab-floor'
 * nameFromPath('%ZZ');       // undefined
 */
export function nameFromPath(segment: string): string | undefined {
  try {
    const name = decodeURIComponent(segment);
    return isValidName(name) ? name : undefined;
  } catch {
    return undefined; // malformed percent-encoding
  }
}
