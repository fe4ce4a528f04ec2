// `npm run readme`: write the README's generated sections (the key reference from the key
// table, the exit codes from the error catalogue) in place; test/readme.test.ts keeps them equal.
import { readFileSync, writeFileSync } from 'node:fs';
import { configReference } from '../src/config/reference.js';
import { errorCodeReference } from '../src/error-codes.js';

const SECTIONS: Record<string, () => string> = { 'config-reference': configReference, 'error-codes': errorCodeReference };

let readme = readFileSync('README.md', 'utf8');
for (const [name, generate] of Object.entries(SECTIONS)) {
  const start = `<!-- ${name}:start -->\n`;
  const end = `\n<!-- ${name}:end -->`;
  const [before, rest] = readme.split(start);
  const after = rest?.split(end)[1];
  if (before === undefined || after === undefined) throw new Error(`README.md has no ${name} markers`);
  readme = `${before}${start}${generate()}${end}${after}`;
}
writeFileSync('README.md', readme);
