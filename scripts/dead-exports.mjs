#!/usr/bin/env node
/**
 * Dead-export finder (`npm run dead-exports`): every `export`ed name of src/ that no other file of
 * the project (src, test, bench, scripts, fuzz, examples) mentions. A name also unused inside its
 * own file is dead code; one used only there needs no `export`. Names of the public API
 * (src/index.ts) count as used. A word search, not a type-checker: a name mentioned only in a
 * comment elsewhere counts as used, so the list errs towards keeping code. Exit 1 when a dead
 * name is found, so CI can run it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIRS = ['src', 'test', 'perf', 'scripts', 'fuzz', 'examples'];
const EXT = /\.(ts|mts|mjs|js|html)$/;

function walk(dir) {
  let out = [];
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    if (n === 'node_modules' || n.startsWith('.')) continue;
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (EXT.test(n)) out.push(p);
  }
  return out;
}

const files = DIRS.flatMap((d) => walk(join(ROOT, d)));
const text = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
const DECL = /^export\s+(?:declare\s+)?(?:default\s+)?(?:async\s+)?(?:function\*?|const|let|var|class|interface|type|enum|abstract\s+class)\s+([A-Za-z_$][\w$]*)/gm;
const LIST = /^export\s+(?:type\s+)?\{([^}]*)\}(?!\s*from)/gm;

const dead = [];
const exportOnly = [];
for (const f of files.filter((x) => relative(ROOT, x).startsWith('src/') && x.endsWith('.ts'))) {
  if (relative(ROOT, f) === 'src/index.ts') continue; // the public API is used by definition
  const src = text.get(f);
  const names = [...src.matchAll(DECL)].map((m) => m[1]);
  for (const m of src.matchAll(LIST)) names.push(...m[1].split(',').map((s) => s.trim().split(/\s+as\s+/).pop()).filter(Boolean));
  for (const name of names) {
    const word = new RegExp(`(?<![\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`, 'g');
    const elsewhere = files.some((g) => g !== f && word.test(text.get(g)));
    if (elsewhere) continue;
    const uses = (src.match(word) ?? []).length;
    (uses > 1 ? exportOnly : dead).push(`${relative(ROOT, f)}: ${name}`);
  }
}
if (exportOnly.length) console.log(`exported but used only in their own file (${exportOnly.length}):\n  ${exportOnly.join('\n  ')}`);
console.log(dead.length ? `dead: exported and used nowhere (${dead.length}):\n  ${dead.join('\n  ')}` : 'dead exports: none');
process.exitCode = dead.length ? 1 : 0;
