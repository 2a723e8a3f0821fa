import type { AgentEvent } from './events.js';
import { SrtLiveTransmit } from './exec.js';
import { execBinds } from './exec-ports.js';
import { execFailure, type Failure } from './failures.js';
import type { PeerMessage } from './link.js';
import type { StreamOptions } from './stream-options.js';
import { execEnds } from './tool-commands.js';

/** Where `--exec`'s srt-live-transmit reports to. */
export interface ExecReports {
  /** Its output lines and its restarts, for the operator. */
  emit(event: AgentEvent): void;
  /** Its latest SRT statistics, for the stream's health. */
  stats(stats: Record<string, number>): void;
  /** It cannot run at all: carrying on would move no media. */
  failed(failure: Failure): void;
}

/**
 * Starts `--exec` srt-live-transmit for stream `o`, paired as `m` says (each end on the side
 * its role needs: see `execEnds`), restarted when it exits.
 *
 * @example
 * const tool = startExec(options, 'udp://127.0.0.1:5000', peer, reports);
 * tool.stop();
 */
export function startExec(
  o: StreamOptions,
  exec: string,
  m: PeerMessage,
  reports: ExecReports,
): SrtLiveTransmit {
  const [input, output] = execEnds(o, exec, m);
  const tool = new SrtLiveTransmit({
    input,
    output,
    binds: execBinds(o),
    onOutput: (line) => {
      reports.emit({ event: 'exec', line });
    },
    onStats: (stats) => {
      reports.stats(stats);
    },
    onExit: (code) => {
      reports.emit({
        event: 'error',
        code: 'ERR_EXEC_EXITED',
        message: `srt-live-transmit exited (${code ?? 'signal'}); restarting`,
        fatal: false,
      });
    },
    onError: (error) => {
      reports.failed(execFailure(error));
    },
  });
  tool.start();
  return tool;
}
