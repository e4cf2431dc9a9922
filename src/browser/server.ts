/**
 * The local HTTP server of the browser lane and of `fdk serve`: 127.0.0.1 on a random port,
 * serving only what it is given (a table of URL prefix -> folder, plus single files), never a
 * directory listing and never a path outside those folders. Every response carries COOP/COEP so
 * the page is cross-origin isolated: SharedArrayBuffer, and so wasm threads, need that.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
};

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface Routes {
  /** URL prefix (e.g. '/dist/') -> folder on disk. */
  dirs: Record<string, string>;
  /** Exact URL path -> file on disk, or bytes made in memory (inputs of a bench case). */
  files: Record<string, string | Uint8Array>;
  /** Paths made on request (the demo's models: exported/converted on first use). Tried last. */
  resolve?: (path: string) => Promise<string | Uint8Array | undefined>;
}

export interface LocalServer {
  url: string;
  routes: Routes;
  close(): Promise<void>;
}

function resolveRoute(routes: Routes, path: string): string | Uint8Array | undefined {
  if (path in routes.files) return routes.files[path];
  for (const [prefix, dir] of Object.entries(routes.dirs)) {
    if (!path.startsWith(prefix)) continue;
    const root = resolve(dir);
    const file = normalize(join(root, path.slice(prefix.length)));
    if (file !== root && !file.startsWith(root + sep)) return undefined; // no ../ escapes
    if (existsSync(file) && statSync(file).isFile()) return file;
  }
  return undefined;
}

export async function startServer(routes: Routes, opts: { port?: number } = {}): Promise<LocalServer> {
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    let hit: string | Uint8Array | undefined;
    try {
      if (req.method === 'GET' || req.method === 'HEAD') hit = resolveRoute(routes, path) ?? (await routes.resolve?.(path));
    } catch (e) {
      // the page shows this text: one line, as on the command line
      res.writeHead(500, { 'Content-Type': 'text/plain', ...ISOLATION_HEADERS });
      res.end(String((e as Error).message ?? e).split('\n')[0]);
      return;
    }
    if (hit === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain', ...ISOLATION_HEADERS });
      res.end(`not found: ${path}\n`);
      return;
    }
    const type = typeof hit === 'string' ? MIME[extname(hit).toLowerCase()] ?? 'application/octet-stream' : MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store', ...ISOLATION_HEADERS });
    if (req.method === 'HEAD') res.end();
    else if (typeof hit === 'string') createReadStream(hit).pipe(res);
    else res.end(hit);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routes,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
