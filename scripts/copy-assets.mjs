// Copies non-TypeScript assets (protobuf schema, python worker) next to the compiled JS.
import { cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, extname } from 'node:path';
const exts = new Set(['.proto', '.py', '.json', '.html', '.css', '.mjs']); // .mjs: the browser pages' scripts
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (exts.has(extname(name))) {
      const dst = join('dist', p.slice('src/'.length));
      mkdirSync(dirname(dst), { recursive: true });
      cpSync(p, dst);
    }
  }
}
walk('src');
