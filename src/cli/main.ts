/**
 * fdk command-line entry. Each command lives in its own module and registers itself here.
 * Errors: an FdkError prints as one line `fdk: error: FILE: problem` and exits non-zero;
 * any other error is a bug and also prints one line, with the stack only under --debug / FDK_DEBUG=1.
 */
import { Command, CommanderError } from 'commander';
import { errorLine, FdkError } from '../util/errors.js';
import { COMMANDS } from './commands.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('fdk')
    .description('Edge face-detector toolkit: analyze, convert (PyTorch/ONNX -> ONNX/ncnn), bench, parity, WIDER accuracy, reports')
    .option('--data <dir>', 'data folder with models/images/WIDER files (default: $FDK_DATA, else ../shared)')
    .option('--debug', 'print stack traces for unexpected errors')
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride();
  program.hook('preAction', (thisCommand) => {
    const data = thisCommand.opts().data as string | undefined;
    if (data) process.env.FDK_DATA = data;
    if (thisCommand.opts().debug) process.env.FDK_DEBUG = '1';
  });
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help/version print and exit 0; usage errors were already printed by commander as one line
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    }
    process.stderr.write(errorLine(e) + '\n');
    if (process.env.FDK_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    return e instanceof FdkError ? e.exitCode : 1;
  }
}
