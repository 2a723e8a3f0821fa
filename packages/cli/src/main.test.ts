/**
 * `punch COMMAND --help` answers for every command, with that command's lines of the usage, and
 * an unknown command is still a usage error.
 */
import { describe, expect, it } from 'vitest';
import { helpFor, main } from './main.js';

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await main(argv, { env: {}, out: (t) => lines.push(t) });
  return { code, out: lines.join('\n') };
}

describe('punch … --help', () => {
  it.each([
    [['session', 'create', '--help'], 'punch session create'],
    [['session', 'show', '-h'], 'punch session show'],
    [['session', '--help'], 'punch session close'],
    [['token', '--help'], '--all instead of --stream'],
    [['token', 'mint', '--help'], 'punch token mint --key FILE'],
    [['tally', '--help'], 'punch tally [SESSION] --program'],
    [['account', 'create', '--help'], 'punch account create NAME'],
    [['project', 'list', '--help'], 'punch project create NAME | list'],
    [['key', 'create', '--help'], 'punch key create --project ID'],
  ])('%j prints its usage and exits 0', async (argv, line) => {
    const { code, out } = await run(argv);
    expect(code).toBe(0);
    expect(out).toContain(line);
    expect(out).toContain('Common options:');
  });

  it("a subcommand's help shows its own lines, not its siblings'", () => {
    const help = helpFor('session', 'extend');
    expect(help).toContain('2 h from now'); // the continuation line
    expect(help).not.toContain('punch session create');
  });

  it('an unknown command is still a usage error, --help or not', async () => {
    expect((await run(['bogus', '--help'])).code).toBe(2);
  });
});
