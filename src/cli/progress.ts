/**
 * The one progress bar of the CLI (accuracy, report, bench, parity, convert): drawn on stderr only
 * when stderr is a terminal, never in CI, never with --json, so pipes and logs get no control
 * characters. Ctrl-C while it is drawn restores the cursor (util/signals.ts).
 */
import cliProgress from 'cli-progress';
import { interactive } from './output.js';
import { onInterrupt } from '../util/signals.js';

export interface Progress {
  /** Sets the position: `done` of `total` steps, `label` naming the current one. */
  update(done: number, total: number, label: string): void;
  /** A log line above the bar (the bar is redrawn below it); plain stderr without a bar. */
  log(line: string): void;
  /** Removes the bar; safe to call more than once. */
  stop(): void;
}

/** Bars being drawn: an error line or the exit must not land on a bar's line (stopProgress). */
const active = new Set<() => void>();

/** Removes every bar (main.ts before it prints an error line). */
export function stopProgress(): void {
  for (const stop of [...active]) stop();
}

/** Whether a command run with these options shows a bar (see the module comment). */
export function progressWanted(json?: boolean): boolean {
  return interactive() && !json;
}

/** A no-op without a terminal, so commands call it unconditionally. */
export function progressBar(opts: { json?: boolean; unit?: string } = {}): Progress {
  if (!progressWanted(opts.json)) return { update: () => {}, log: (line) => process.stderr.write(line + '\n'), stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `{label} [{bar}] {value}/{total} ${opts.unit ?? 'steps'}, {duration_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      forceRedraw: true, // redraw after log lines printed above the bar
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  const stop = () => {
    if (started && !stopped) bar.stop();
    stopped = true;
    removeHook();
    active.delete(stop);
  };
  const removeHook = onInterrupt(stop);
  active.add(stop);
  return {
    update(done, total, label) {
      if (stopped) return;
      const shown = label.length > 48 ? `${label.slice(0, 47)}…` : label;
      if (!started) {
        bar.start(total, done, { label: shown });
        started = true;
      } else {
        if (bar.getTotal() !== total) bar.setTotal(total);
        bar.update(done, { label: shown });
      }
    },
    log(line) {
      // clear the bar's line, print the log line; the next redraw puts the bar back underneath
      process.stderr.write((started && !stopped ? '\r\x1b[2K' : '') + line + '\n');
    },
    stop,
  };
}
