import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Secrets {
  readonly current: string;
  readonly previous: readonly string[];
  /** Where the secret came from, for the startup log (never the value). */
  readonly source: 'env' | 'file' | 'generated';
  readonly file?: string;
}

/**
 * The signing secret: PUNCH_SECRET if set; else `<dataDir>/secret`, generated (mode 0600) on
 * first start; an existing file is narrowed to 0600. PUNCH_SECRET_PREVIOUS still verifies tokens during a rotation, never signs.
 */
export function loadSecrets(dataDir: string, env: NodeJS.ProcessEnv): Secrets {
  const previous =
    env.PUNCH_SECRET_PREVIOUS !== undefined && env.PUNCH_SECRET_PREVIOUS !== ''
      ? [env.PUNCH_SECRET_PREVIOUS]
      : [];
  for (const s of previous) check(s, 'PUNCH_SECRET_PREVIOUS');
  const fromEnv = env.PUNCH_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    check(fromEnv, 'PUNCH_SECRET');
    return { current: fromEnv, previous, source: 'env' };
  }
  const file = join(dataDir, 'secret');
  if (existsSync(file)) {
    // A secret file copied in or restored from a backup may have come with a wider mode.
    chmodSync(file, 0o600);
    const current = readFileSync(file, 'utf8').trim();
    check(current, file);
    return { current, previous, source: 'file', file };
  }
  const current = randomBytes(48).toString('base64url');
  writeFileSync(file, `${current}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { current, previous, source: 'generated', file };
}

function check(secret: string, where: string): void {
  if (Buffer.byteLength(secret, 'utf8') < 32) {
    throw new Error(
      `${where} is too short: a signing secret must be at least 32 bytes (try: openssl rand -base64 48)`,
    );
  }
}
