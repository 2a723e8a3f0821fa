import type { ChildProcess } from 'node:child_process';

/**
 * The URL of a `punch serve` child once it logs "listening", collecting its stdout lines (and
 * stderr chunks) in `logs`; rejected, with the last lines, if it exits first.
 *
 * @example
 * const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
 * const base = await listeningUrl(child, logs);
 */
export function listeningUrl(child: ChildProcess, logs: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        if (line.includes('"msg":"listening"'))
          resolve(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`);
      }
    });
    child.stderr?.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
    child.once('exit', (code) => {
      reject(new Error(`punch serve exited with ${code}:\n${logs.slice(-20).join('\n')}`));
    });
  });
}
