/**
 * fdk command-line entry. Each command lives in its own module and registers itself here.
 * Errors: an FdkError prints as one line `fdk: error: FILE: problem` and exits non-zero;
 * any other error is a bug and also prints one line, with the stack only under --debug / FDK_DEBUG=1.
 */
import { Command, CommanderError } from 'commander';
import { errorLine, FdkError } from '../util/errors.js';
import { fdkVersion } from '../util/package-info.js';
import { COMMANDS } from './commands.js';
import { quietOnEpipe, settleColour } from './output.js';
import { stopProgress } from './progress.js';
import { installSignalHandlers, settleSignals } from '../util/signals.js';

/** The command named on the command line (first word that is not an option or --data's value). */
function commandName(argv: string[]): string | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--data') { i++; continue; }
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('fdk')
    .description('Edge face-detector toolkit: analyze, convert (PyTorch/ONNX -> ONNX/ncnn), bench, parity, WIDER accuracy, reports')
    .option('--data <dir>', 'data folder with models/images/WIDER files (default: $FDK_DATA, else ../shared)')
    .option('--debug', 'print stack traces for unexpected errors')
    .option('--wide', 'tables at their full width (default: fitted to 120 columns, or the terminal)')
    .version(fdkVersion(), '-V, --version', 'print the fdk version')
    .showHelpAfterError(false)
    // commander's usage errors ('error: unknown command ...') get the same 'fdk: ' prefix as every other error line
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error: ') ? `fdk: ${s}` : s) })
    .exitOverride();
  program.hook('preAction', (thisCommand) => {
    const data = thisCommand.opts().data as string | undefined;
    if (data) process.env.FDK_DATA = data;
    if (thisCommand.opts().debug) process.env.FDK_DEBUG = '1';
    if (thisCommand.opts().wide) process.env.FDK_WIDE = '1'; // read by cli/table.ts outputWidth
  });
  // Load only the named command's module; help and unknown commands load them all.
  const name = commandName(argv);
  // `fdk --version` needs none of them (loading all took 0.3 s of CPU)
  const versionOnly = !name && argv.some((a) => a === '-V' || a === '--version');
  const names = name && COMMANDS[name] ? [name] : versionOnly ? [] : Object.keys(COMMANDS);
  for (const n of names) (await COMMANDS[n]()).register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  quietOnEpipe();
  settleColour();
  installSignalHandlers(); // temp files removed, workers stopped, exit 130/143 (util/signals.ts)
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    await settleSignals(); // an interrupt during the last write still exits 130/143
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help/version print and exit 0; usage errors were already printed by commander as one line
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    }
    await settleSignals();
    stopProgress(); // the error line goes below a progress bar, with the cursor shown again
    process.stderr.write(errorLine(e) + '\n');
    if (process.env.FDK_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    return e instanceof FdkError ? e.exitCode : 1;
  }
}
