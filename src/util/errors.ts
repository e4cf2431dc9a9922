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

// C0 controls (newline included), DEL and C1 controls: a name holding ESC or OSC sequences could retitle
// or clear the terminal, and a bare \r would overwrite the start of an error line.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * A name read from a file (node, op, tensor, event, ...) made safe to print: control characters
 * become `\xNN`, so the text shows what the file holds and the terminal stays untouched.
 */
export function escapeName(s: string): string {
  return s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * One line for the terminal: newlines in messages are folded so the contract "one line" holds,
 * then any other control character is escaped (names from hostile files end up in messages).
 */
export function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return `fdk: error: ${escapeName(msg.replace(/\s*\n\s*/g, ' '))}`;
}

/**
 * For `.catch(withFile(path))`: an FdkError raised without a file (deep in a pipeline that does not
 * know it) is re-thrown naming `file`, so the line still says which input failed.
 */
export function withFile(file: string): (e: unknown) => never {
  return (e) => {
    if (e instanceof FdkError && !e.file) throw new FdkError(e.message, { file, exitCode: e.exitCode, cause: e });
    throw e;
  };
}

/** Runs `fn`; an FdkError it throws without a file is re-thrown naming `file` (see withFile). */
export function namingFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    return withFile(file)(e);
  }
}
