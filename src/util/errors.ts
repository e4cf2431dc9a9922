/**
 * FdkError is the one error type the CLI prints as a single line without a stack trace.
 * Anything else that escapes is a bug and is printed with its stack only under --debug / FDK_DEBUG=1.
 */
export class FdkError extends Error {
  /** File the problem is about (printed first so the line names it). */
  readonly file?: string;
  readonly exitCode: number;
  constructor(message: string, opts: { file?: string; exitCode?: number; cause?: unknown } = {}) {
    super(opts.file ? `${opts.file}: ${message}` : message);
    this.name = 'FdkError';
    this.file = opts.file;
    this.exitCode = opts.exitCode ?? 1;
    if (opts.cause !== undefined) (this as { cause?: unknown }).cause = opts.cause;
  }
}

/** One line for the terminal: newlines in messages are folded so the contract "one line" holds. */
export function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return `fdk: error: ${msg.replace(/\s*\n\s*/g, ' ')}`;
}
