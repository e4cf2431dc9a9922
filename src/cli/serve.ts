/**
 * `fdk serve`: the demo page on a local server (127.0.0.1, random port unless --port): pick a photo
 * and a model, run it with ncnn-wasm or ort-wasm in the browser, see boxes, landmarks and latency.
 * Runs until interrupted (Ctrl-C); --json prints the URL as JSON.
 */
import type { Command } from 'commander';
import { FdkError } from '../util/errors.js';
import { printJson } from './output.js';
import { printFitted } from './table.js';

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the in-browser demo (ncnn-wasm / ort-wasm face detection) on 127.0.0.1 and print its URL')
    .option('--port <n>', 'port (default: a free one)', '0')
    .option('--json', 'print {url} as JSON')
    .action(async (o: { port: string; json?: boolean }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FdkError(`bad --port '${o.port}': expected 0..65535`);
      const { startServer } = await import('../browser/server.js');
      const { demoRoutes } = await import('../demo/routes.js');
      const server = await startServer(demoRoutes(), { port });
      if (o.json) printJson({ url: `${server.url}/` });
      else printFitted(`fdk serve: open ${server.url}/ (Ctrl-C to stop)`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
