/**
 * Measured tables go into the docs by the script that measured them, never by hand: replaces the
 * text between `<!-- NAME -->` and `<!-- /NAME -->` in a doc page.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { stampDoc } from '../scripts/doc-sections.js';

export function writeDocSection(doc: string, name: string, body: string): void {
  const text = readFileSync(doc, 'utf8');
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(<!-- ${esc} -->\\n)[\\s\\S]*?(\\n<!-- /${esc} -->)`);
  if (!re.test(text)) throw new Error(`${doc} has no <!-- ${name} --> section`);
  writeFileSync(doc, text.replace(re, (_m, a: string, b: string) => `${a}${body}${b}`));
  stampDoc(doc); // content hash, checked by npm run docs:check
}
