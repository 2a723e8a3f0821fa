/** Session and stream names: `^[a-z0-9][a-z0-9-]{1,62}$` (DESIGN.md, "Names"). */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** True when `name` is a valid session or stream name. */
export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name);
}
