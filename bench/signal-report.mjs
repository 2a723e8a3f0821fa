// The report of bench/signal.mjs: medians over runs, the tables, the targets, the notes.
import { fmt, mdTable, median, mib } from './lib.mjs';

const NAMES = {
  punch: 'Punch (peer tokens, policy on)',
  peerjs: 'PeerJS server 1.0.2',
  'bare-relay': 'bare ws relay',
};
const pairsLabel = (n) => `${n} ${n === 1 ? 'pair' : 'pairs'}`;

/** What was measured and how, for the top of the report. */
export function describe(CONFIG, m, punchArgs) {
  const limits = punchArgs.filter((_, i) => i % 2 === 1).join(', ');
  const runs =
    CONFIG.repeat > 1
      ? `${CONFIG.repeat} runs per row, interleaved, each with a fresh server process; every ` +
        'number is the median over the runs.'
      : 'A fresh server process per row.';
  return [
    `Clients: ${CONFIG.pairs} pairs (${2 * CONFIG.pairs} WebSockets) in one separate process ` +
      `on the same ${m.cores}-core machine, all over 127.0.0.1. ${runs} Punch: each client ` +
      'holds an EdDSA peer token (group "bench", allow "bench/peer-*"), so every relay checks ' +
      `both policies, and writes its audit row; rate limits raised (${limits}). PeerJS: ` +
      '`OFFER` messages. bare ws relay: bench/servers/bare-relay.mjs (JSON.parse, Map lookup, ' +
      'JSON.stringify, send).',
    `Throughput: each pair keeps ${CONFIG.window} messages in flight (${CONFIG.window / 2} ` +
      `each way; a delivery releases the next send), ${CONFIG.warmupMs / 1000} s of warm-up ` +
      `then ${CONFIG.measureMs / 1000} s measured. p50/p99/max: send → delivery to the other ` +
      'client, stamped in the payload. CPU %: of one core over the measured span ' +
      '(/proc/<pid>/stat; process.cpuUsage for the clients). Client and server share the ' +
      'CPUs: a row whose client CPU % is near 100 is bounded by the clients as much as by its ' +
      'relay, so its msgs/s understates the relay; "server CPU µs/msg" (all threads of the ' +
      'server process per delivered message) compares the relays regardless.',
    `Latency, after the throughput run: ${CONFIG.latencyPairs.map(pairsLabel).join(', then ')} ` +
      'at once, each pair doing round trips one after another (A → B, then B → A with a ' +
      `payload of the same size); ${CONFIG.latencyRoundTrips.toLocaleString('en-US')} measured ` +
      `in all after ${CONFIG.latencyWarmupPerPair} per pair of warm-up. RSS: VmRSS at the end, ` +
      'every client still connected.',
  ].join('\n\n');
}

// ---- tables -------------------------------------------------------------------------------

const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const times = (x) => (Number.isFinite(x) ? `${fmt(x, 2)}×` : '—');

/** One system and payload over its runs: the median of every number, and the msgs/s range. */
export function combine(CONFIG, runs) {
  const med = (f) => median(runs.map(f));
  const tp = (f) => med((r) => f(r.throughput));
  const rates = runs.map((r) => r.throughput.perSecond);
  return {
    kind: runs[0].kind,
    payload: runs[0].payload,
    runs: runs.length,
    perSecondRange: [Math.min(...rates), Math.max(...rates)],
    throughput: {
      perSecond: tp((t) => t.perSecond),
      latency: {
        p50: tp((t) => t.latency.p50),
        p99: tp((t) => t.latency.p99),
        max: tp((t) => t.latency.max),
      },
      serverCpuUsPerMsg: tp((t) => t.serverCpuUsPerMsg),
      serverCpuPct: tp((t) => t.serverCpuPct),
      clientCpuPct: tp((t) => t.clientCpuPct),
      otherCpuPct: tp((t) => t.otherCpuPct),
    },
    latency: Object.fromEntries(
      CONFIG.latencyPairs.map((n) => [
        n,
        {
          timedOut: runs.some((r) => r.latency[n].timedOut),
          rtt: {
            count: med((r) => r.latency[n].rtt.count),
            p50: med((r) => r.latency[n].rtt.p50),
            p99: med((r) => r.latency[n].rtt.p99),
            max: med((r) => r.latency[n].rtt.max),
          },
        },
      ]),
    ),
    rssKiB: med((r) => r.rssKiB),
  };
}

/** Rows of one payload's tables, with ratios to PeerJS and bare ws. */
export function tables(CONFIG, summary, payload) {
  const rows = CONFIG.systems.map((k) =>
    summary.find((r) => r.kind === k && r.payload === payload),
  );
  const peer = rows.find((r) => r.kind === 'peerjs');
  const bare = rows.find((r) => r.kind === 'bare-relay');
  const load = rows.map((r) => {
    const t = r.throughput;
    return [
      NAMES[r.kind],
      r.runs === 1
        ? fmt(t.perSecond, 0)
        : `${fmt(t.perSecond, 0)} (${fmt(r.perSecondRange[0], 0)}–${fmt(r.perSecondRange[1], 0)})`,
      fmt(t.latency.p50, 2),
      fmt(t.latency.p99, 2),
      fmt(t.latency.max, 2),
      times(ratio(t.perSecond, peer?.throughput.perSecond)),
      times(ratio(t.perSecond, bare?.throughput.perSecond)),
      fmt(t.serverCpuUsPerMsg, 1),
      fmt(t.serverCpuPct, 0),
      fmt(t.clientCpuPct, 0),
      mib(r.rssKiB),
    ];
  });
  const ping = CONFIG.latencyPairs.flatMap((pairs) =>
    rows.map((r) => {
      const l = r.latency[pairs];
      return [
        NAMES[r.kind],
        pairs,
        `${l.rtt.count}${l.timedOut ? ' (time cap)' : ''}`,
        fmt(l.rtt.p50, 2),
        fmt(l.rtt.p99, 2),
        fmt(l.rtt.max, 2),
        times(ratio(l.rtt.p99, peer?.latency[pairs].rtt.p99)),
        times(ratio(l.rtt.p99, bare?.latency[pairs].rtt.p99)),
      ];
    }),
  );
  return {
    load: mdTable(
      [
        'system',
        CONFIG.repeat === 1 ? 'msgs/s' : `msgs/s (${CONFIG.repeat} runs: min–max)`,
        'p50 ms',
        'p99 ms',
        'max ms',
        'vs PeerJS',
        'vs bare ws',
        'server CPU µs/msg',
        'server CPU %',
        'client CPU %',
        'server RSS MiB',
      ],
      load,
    ),
    ping: mdTable(
      [
        'system',
        'pairs at once',
        'round trips',
        'RTT p50 ms',
        'RTT p99 ms',
        'RTT max ms',
        'p99 vs PeerJS',
        'p99 vs bare ws',
      ],
      ping,
    ),
    punch: rows.find((r) => r.kind === 'punch'),
    peer,
    bare,
  };
}

/** The issue's targets for one payload; undefined when a system needed was not run. */
export function verdict(CONFIG, { punch, peer, bare }) {
  if (punch === undefined || peer === undefined || bare === undefined) return undefined;
  const t = punch.throughput;
  /** @param {[string, boolean]} target */
  const mark = ([what, ok]) => `${what} ${ok ? '✓' : '✗'}`;
  // The issue's target: the sustained rate and its p99, and the rate beside bare ws.
  /** @type {[string, boolean][]} */
  const targets = [
    ['msgs/s ≥ PeerJS', t.perSecond >= peer.throughput.perSecond],
    ['p99 under load ≤ PeerJS', t.latency.p99 <= peer.throughput.latency.p99],
    ['msgs/s ≥ 0.8 × bare ws', t.perSecond >= 0.8 * bare.throughput.perSecond],
  ];
  // Shown beside them, not part of the target: one message at a time, nothing to batch.
  const pingPong = CONFIG.latencyPairs.map((/** @type {number} */ n) => [
    `RTT p99 (${pairsLabel(n)}) ≤ PeerJS`,
    punch.latency[n].rtt.p99 <= peer.latency[n].rtt.p99,
  ]);
  return `${targets.map(mark).join('; ')} (ping-pong, informational: ${pingPong.map(mark).join('; ')})`;
}

/** Everything odd about single runs: wrong or missing deliveries, time caps, a busy machine. */
export function runNotes(CONFIG, results) {
  const notes = [];
  for (const r of results) {
    const where = `${r.payload} ${r.kind}${CONFIG.repeat > 1 ? ` (run ${r.rep + 1})` : ''}`;
    const phases = [
      ['throughput', r.throughput],
      ...CONFIG.latencyPairs.map((n) => [`latency (${pairsLabel(n)})`, r.latency[n]]),
    ];
    for (const [phase, p] of phases) {
      if (p.bad > 0)
        notes.push(
          `${where} ${phase}: ${p.bad}/${p.checked} checked deliveries wrong, e.g. ${p.badSamples[0]}`,
        );
      if (Object.keys(p.unexpected).length > 0)
        notes.push(`${where} ${phase}: unexpected frames ${JSON.stringify(p.unexpected)}`);
      if (p.timedOut) notes.push(`${where} ${phase}: hit its time cap`);
    }
    if (r.throughput.lost > 0)
      notes.push(
        `${where}: ${r.throughput.lost} of ${r.throughput.sent} messages not delivered ` +
          `${r.throughput.drained ? '' : `within ${CONFIG.drainMs / 1000} s `}after the load stopped`,
      );
    if (r.throughput.otherCpuPct >= 15)
      notes.push(
        `${where}: other processes and the kernel used ${fmt(r.throughput.otherCpuPct, 0)}% of a core during the measured span` +
          (r.throughput.stealPct >= 1
            ? ` (hypervisor steal ${fmt(r.throughput.stealPct, 0)}%)`
            : ''),
      );
    if (r.serverWarnings > 0)
      notes.push(
        `${where}: server logged ${r.serverWarnings} warn/error lines, e.g. ${r.serverWarnSamples[0]}`,
      );
  }
  for (const payload of CONFIG.payloads) {
    for (const kind of CONFIG.systems) {
      const runs = results.filter((r) => r.kind === kind && r.payload === payload);
      const busy = runs.filter((r) => r.throughput.clientCpuPct >= 90);
      if (busy.length > 0)
        notes.push(
          `${payload} ${kind}: the client process was at ≥ 90% CPU in ${busy.length} of ` +
            `${runs.length} run(s): its msgs/s is a lower bound of the relay's`,
        );
    }
  }
  return notes;
}
