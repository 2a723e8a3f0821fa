/**
 * `punch tally bridge SOURCE --map KEY=STREAM… [--tsl-out tsl5+udp://HOST:PORT]`: takes tally
 * from the production switcher and sets the session's tally on every change, and only on
 * change (DESIGN.md "Tally from the switcher"). Runs until Ctrl-C, or until Punch refuses it.
 */
import { parseArgs } from 'node:util';
import { SessionView } from '@punch/core';
import { client, sessionId, type Io } from '../admin.js';
import { AtemSource, loadAtemConnection, type AtemModule } from './atem.js';
import { PunchClient } from '../client.js';
import { SignalLink } from '../peer/link.js';
import { UsageError } from '../usage.js';
import { LinkTally } from './link-tally.js';
import {
  displayIndexes,
  parseMap,
  tallyFor,
  unmatchable,
  type Tally,
  type TallyMap,
} from './mapping.js';
import { ObsSource } from './obs.js';
import { Reporter } from './report.js';
import { parseSourceUrl, type SourceEvent, type SourceUrl, type TallySource } from './source.js';
import { TslListener } from './tsl-in.js';
import { TslOut } from './tsl-out.js';
import { VmixSource } from './vmix.js';
import { TallyWriter } from './writer.js';

export const BRIDGE_HELP = `punch tally bridge SOURCE [SESSION] --map KEY=STREAM [--map …] [--tsl-out tsl5+udp://HOST:PORT]

Takes tally from the switcher and sets the session's tally on every change (only on change).
Run it on the production LAN with the session's admin token (PUNCH_TOKEN, or --token; the
producer's dashboard link works too).

SOURCE:
  vmix://HOST[:8099]          vMix's TCP API; keys are input numbers (1 = the first input)
  obs://HOST[:4455]           OBS (obs-websocket v5; its password in PUNCH_OBS_PASSWORD);
                              keys are scene names or the sources visible in them
                              (preview: in studio mode)
  atem://HOST[:9910]          a Blackmagic ATEM (needs the atem-connection package); keys are
                              source numbers (1 = input 1); what keyers, transitions and
                              SuperSource show counts, as the ATEM's own tally says
  tsl5+udp://[HOST]:PORT      listen for TSL UMD v5.0 over UDP; keys are display indexes
  tsl5+tcp://[HOST]:PORT      the same over TCP (DLE/STX framing)

  --map KEY=STREAM            the input that lights a stream (repeat it; a key may light several)
  --tsl-out tsl5+udp://H:P    send the session's tally on as TSL UMD v5.0 (label = stream name;
                              display index = the stream's numeric key, else its place)
  --json                      one JSON event per line
  --server URL, --token TOKEN as for every command

Example:
  punch tally bridge vmix://10.0.0.5 --map 1=cam-wide --map 2=cam-close

Details: docs/tally.md`;

/** Where the bridge sends and what it presents: a dashboard link carries both. */
function credentials(values: { server?: string | undefined; token?: string | undefined }, io: Io) {
  // Pasted links and tokens often bring a stray space or newline with them.
  const given = (values.token ?? io.env.PUNCH_TOKEN)?.trim();
  // The producer's dashboard link: `https://host/session/ID#t=TOKEN`.
  const link =
    given === undefined ? null : /^(https?:\/\/[^/#]+)\/session\/[^#]*#t=(p_\S+)$/.exec(given);
  if (link === null) return { server: values.server, token: given };
  return { server: values.server ?? link[1], token: link[2] };
}

export async function tallyBridge(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
      map: { type: 'string', multiple: true },
      'tsl-out': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    io.out(BRIDGE_HELP);
    return 0;
  }
  const [source, session, ...extra] = positionals;
  if (source === undefined || extra.length > 0)
    throw new UsageError('punch tally bridge takes one SOURCE (punch tally bridge --help)');
  const url = parseSourceUrl(source);
  const map = parseMap(values.map ?? []);
  const never = unmatchable(map, url.kind);
  if (never.length > 0)
    throw new UsageError(`--map keys that can never light a stream: ${never.join('; ')}`);
  const out = values['tsl-out'] === undefined ? undefined : parseSourceUrl(values['tsl-out']);
  if (out !== undefined && (out.kind !== 'tsl5+udp' || out.host === ''))
    throw new UsageError(`--tsl-out takes tsl5+udp://HOST:PORT (got "${values['tsl-out']}")`);
  const creds = credentials(values, io);
  const c = client(creds, io);
  const id = sessionId(session, creds.token);
  // Loaded before anything else: a missing atem-connection is said at once, not at the first cut.
  const atem = url.kind === 'atem' ? await loadAtemConnection() : undefined;

  // The mapped streams must exist: a typo found now, not at the first cut on air.
  const view = SessionView.parse(await c.request('GET', `/api/session/${encodeURIComponent(id)}`));
  const names = view.streams.map((s) => s.name);
  const unknown = [...new Set([...map.values()].flat())].filter((s) => !names.includes(s));
  if (unknown.length > 0)
    throw new UsageError(
      `--map names streams session ${id} does not have: ${unknown.join(', ')} (it has ${names.join(', ')})`,
    );

  const report = new Reporter(values.json, (line) => {
    io.out(line);
  });
  return run(
    {
      url,
      map,
      out,
      report,
      names,
      id,
      server: c.server,
      token: creds.token ?? '',
      obsPassword: io.env.PUNCH_OBS_PASSWORD,
      atem,
    },
    c,
  );
}

interface RunOptions {
  url: SourceUrl;
  map: TallyMap;
  out: SourceUrl | undefined;
  report: Reporter;
  names: string[];
  id: string;
  server: string;
  token: string;
  /** PUNCH_OBS_PASSWORD: read from the environment, never from the command line (ps shows it). */
  obsPassword: string | undefined;
  /** atem-connection, loaded when SOURCE is `atem://`. */
  atem: AtemModule | undefined;
}

function run(o: RunOptions, c: PunchClient): Promise<number> {
  const { report } = o;
  return new Promise((resolve) => {
    let finished = false;
    const parts: { stop(): void }[] = [];
    const finish = (code: number, reason: string): void => {
      if (finished) return;
      finished = true;
      for (const p of parts) p.stop();
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
      report.emit({ event: 'stopped', reason });
      resolve(code);
    };
    const interrupted = (): void => {
      finish(0, 'interrupted');
    };
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);

    const out = o.out === undefined ? undefined : tslOut(o, o.out);
    if (out !== undefined) parts.push(out);
    const { link, sets } = sessionLink(o, finish, (tally) => {
      if (out === undefined) return;
      out.tally(tally);
      o.report.emit({ event: 'tsl-out', target: out.label, packets: o.names.length, ...tally });
    });
    parts.push({
      stop: () => {
        link.close();
      },
    });

    let label = '';
    const onSource = (e: SourceEvent): void => {
      switch (e.type) {
        case 'connected':
          report.emit({ event: 'connected', source: label, detail: e.detail });
          return;
        case 'lost':
          report.emit({ event: 'lost', source: label, reason: e.reason, retryInMs: e.retryInMs });
          return;
        case 'state':
          writer.want(tallyFor(o.map, e.state, e.others), e.at);
          return;
        case 'bad-frame':
          report.badFrame(label, e.reason);
          return;
        case 'note':
          report.emit({ event: 'note', text: e.text });
      }
    };
    const src: TallySource =
      o.url.kind === 'vmix'
        ? new VmixSource(o.url, onSource)
        : o.url.kind === 'obs'
          ? new ObsSource(o.url, o.obsPassword, onSource)
          : o.url.kind === 'atem' && o.atem !== undefined
            ? new AtemSource(o.url, o.atem, onSource)
            : new TslListener(o.url, onSource);
    label = src.label;
    // Made once the source is, to name it: `onSource` reads it only after `src.start()`.
    // Tally goes over the session link; a PUT (while it is down) presents its newest token.
    const writer = new TallyWriter(
      () => (link.token === o.token ? c : new PunchClient(o.server, link.token)),
      o.id,
      src.label,
      (e) => {
        if (e.type === 'set') report.emit({ event: 'tally', ...e.tally, latencyMs: e.latencyMs });
        else if (e.type === 'retrying')
          report.emit({ event: 'punch-retrying', reason: e.reason, retryInMs: e.retryInMs });
        else finish(3, `Punch refused the tally (${e.error.code}: ${e.error.message})`);
      },
      sets,
    );
    parts.push(writer);
    parts.push(src);
    report.emit({
      event: 'started',
      source: src.label,
      session: o.id,
      map: Object.fromEntries(o.map),
    });
    src.start();
  });
}

/**
 * The bridge's own session WebSocket, as an admin: it carries the bridge's tally (`sets`),
 * keeps the newest admin token (Punch sends a fresh one when the session is extended, so a
 * bridge started before `punch session extend` goes on past the old end), learns when the
 * session ends, and hands every tally, whoever set it, to `onTally` (for `--tsl-out`).
 */
function sessionLink(
  o: RunOptions,
  finish: (code: number, reason: string) => void,
  onTally: (tally: Tally) => void,
): { link: SignalLink; sets: LinkTally } {
  const sets = new LinkTally((m) => link.send(m));
  const link: SignalLink = new SignalLink({
    server: o.server,
    session: o.id,
    token: o.token,
    ipv4: false,
    onEvent: (e) => {
      if (e.type === 'message') sets.onMessage(e.message);
      if (e.type === 'message' && e.message.type === 'welcome') sets.opened();
      else if (e.type === 'retrying' || e.type === 'closed' || e.type === 'rejected')
        sets.lost('the session link dropped');
      if (e.type === 'message' && (e.message.type === 'welcome' || e.message.type === 'tally')) {
        if (e.message.type === 'welcome')
          o.report.emit({ event: 'note', text: `following session ${o.id} on Punch` });
        const { program, preview } = e.message.type === 'welcome' ? e.message.tally : e.message;
        onTally({ program, preview });
      } else if (e.type === 'message' && e.message.type === 'token')
        o.report.emit({
          event: 'note',
          text: `Punch sent a fresh admin token (the session now ends ${new Date(e.message.expiresAt * 1000).toISOString()})`,
        });
      else if (e.type === 'retrying')
        o.report.emit({ event: 'note', text: `session link to Punch lost (${e.reason})` });
      else if (e.type === 'rejected') finish(3, `Punch refused the session link (${e.code})`);
      else if (e.type === 'closed')
        finish(e.kind === 'ended' ? 0 : 3, `session link closed: ${e.text}`);
    },
  });
  link.connect();
  return { link, sets };
}

/** `--tsl-out`: the session's tally sent on as TSL UMD v5.0. */
function tslOut(o: RunOptions, out: SourceUrl): TslOut {
  const sender: TslOut = new TslOut(out, (e) => {
    if (e.type === 'send-failed')
      o.report.emit({ event: 'tsl-out-failed', target: sender.label, reason: e.reason });
  });
  sender.streams(displayIndexes(o.map, o.names));
  return sender;
}
