import { sessionCommand, tallyCommand, tokenCommand, type Io } from './admin.js';
import { peerCommand } from './peer/command.js';
import { tallyBridge } from './tally/bridge.js';
import { accountCommand, keyCommand, mintCommand, projectCommand } from './projects.js';
import { ApiError, UsageError, exitCodeFor } from './usage.js';

const HELP = `punch — connect live media between peers behind NATs

Usage:
  punch serve [options]                         run the server (punch serve --help)
  punch session create [--name N] [--ttl 30m] [--streams a,b] [--relay auto|always]
  punch session show [SESSION]                  streams, pair state, tally
  punch session extend [SESSION] --by 1h        add to the end time (or --ttl 2h: end at least
                                                2 h from now); prints a fresh admin token
  punch session connect [SESSION]               passphrase and ready-to-paste commands
  punch session close [SESSION]                 end it: disconnect peers, delete its data
  punch token [SESSION] --stream NAME [--ttl S] a peer token + link + QR code for one stream
                                                (--all instead of --stream: every stream, receiving)
  punch tally [SESSION] --program a,b --preview c
  punch tally bridge SOURCE --map KEY=STREAM…   tally from vMix, OBS, an ATEM or TSL UMD v5.0, on
                                                every change (punch tally bridge --help)
  punch peer LINK (--send | --receive)         the SRT agent beside an encoder or decoder
                                                (punch peer --help)

Projects (WebRTC apps):
  punch account create NAME --data-dir DIR      operator: make an account, print its pa_ key once
  punch project create NAME | list | show ID | delete ID | audit ID
  punch project add-member ID ACCOUNT | remove-member ID ACCOUNT
  punch key create --project ID [--alg EdDSA|ES256] [--out FILE]
                                                make a key pair here, upload only the public key
  punch key list | delete KID --project ID
  punch token mint --key FILE --group G --peer P [--allow G/P ...] [--ttl 1h] [--project ID]
                                                a peer token signed with a local private key

Common options: --server URL (or PUNCH_SERVER, default http://localhost:8787),
--token TOKEN (or PUNCH_TOKEN: the admin token), --json (machine-readable output).
SESSION defaults to the session of the token. Project commands use PUNCH_ACCOUNT_KEY
(or --account-key) and PUNCH_PROJECT (or --project).`;

/** Runs the `punch` command; resolves to the process exit code. */
export async function main(
  argv: string[],
  io: Io = { env: process.env, out: (t) => void process.stdout.write(`${t}\n`) },
): Promise<number> {
  const [command, ...rest] = argv;
  // Commands with a help of their own answer it below; the others, their lines of this one.
  const own = command === 'tally' && rest[0] === 'bridge';
  if (command !== undefined && !own && HELPED.has(command) && wantsHelp(rest)) {
    io.out(helpFor(command, rest[0]));
    return 0;
  }
  try {
    switch (command) {
      case 'serve': {
        // Loaded only here: the server needs @punch/node (better-sqlite3, compiled at install),
        // which the single-file agent and the packed CLI leave out (scripts/bundle-agent.mjs).
        const { SERVE_HELP, serve } = await import('./serve.js');
        if (rest.includes('--help') || rest.includes('-h')) {
          io.out(SERVE_HELP);
          return 0;
        }
        return await serve(rest);
      }
      case 'session':
        return await sessionCommand(rest, io);
      case 'token':
        // `punch token mint --key …` mints a project peer token; otherwise a session peer token.
        return rest[0] === 'mint' && rest.includes('--key')
          ? await mintCommand(rest.slice(1), io)
          : await tokenCommand(rest, io);
      case 'account':
        return await accountCommand(rest, io);
      case 'project':
        return await projectCommand(rest, io);
      case 'key':
        return await keyCommand(rest, io);
      case 'tally':
        return rest[0] === 'bridge'
          ? await tallyBridge(rest.slice(1), io)
          : await tallyCommand(rest, io);
      case 'peer':
        return await peerCommand(rest, io.env, (t) => {
          io.out(t);
        });
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    process.stderr.write(`punch: ${describe(err)}\n`);
    const usage = err instanceof UsageError || isParseArgsError(err);
    if (usage) process.stderr.write('Run "punch --help" for usage.\n');
    return usage ? 2 : exitCodeFor(err);
  }
}

/** The commands whose `--help` is their lines of HELP. */
const HELPED = new Set(['session', 'token', 'tally', 'account', 'project', 'key']);

/** `--help` or `-h` among the arguments (before a `--`). */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * The usage lines of `punch COMMAND [SUB]` (those of SUB when it has its own), each with the
 * lines that continue it, then the common options.
 *
 * @example
 * helpFor('token', '--help'); // "Usage:\n  punch token [SESSION] --stream NAME …\n\nCommon options: …"
 */
export function helpFor(command: string, sub: string | undefined): string {
  const lines = HELP.split('\n');
  const pick = (prefix: string): string[] => {
    const out: string[] = [];
    let taking = false;
    for (const line of lines) {
      if (line.startsWith('  punch ')) taking = line === prefix || line.startsWith(`${prefix} `);
      else if (!line.startsWith('      ')) taking = false;
      if (taking) out.push(line);
    }
    return out;
  };
  const own = sub === undefined || sub.startsWith('-') ? [] : pick(`  punch ${command} ${sub}`);
  const all = own.length > 0 ? own : pick(`  punch ${command}`);
  const common = HELP.slice(HELP.indexOf('Common options:'));
  return ['Usage:', ...all, '', common].join('\n');
}

function describe(err: unknown): string {
  if (err instanceof ApiError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

function isParseArgsError(err: unknown): boolean {
  return (
    err instanceof Error &&
    'code' in err &&
    typeof err.code === 'string' &&
    err.code.startsWith('ERR_PARSE_ARGS')
  );
}
