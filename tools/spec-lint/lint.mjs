// Lints the specs as an integrator would (issue 9): api-spec/openapi.yaml with
// @redocly/cli (recommended rules) and api-spec/asyncapi.yaml with
// @asyncapi/parser. Exits non-zero on any error or warning.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';

const here = dirname(fileURLToPath(import.meta.url));
const spec = join(here, '..', '..', 'api-spec');
let failed = false;

try {
  const out = execFileSync(join(here, 'node_modules', '.bin', 'redocly'),
    ['lint', '--extends=recommended', '--format=stylish', join(spec, 'openapi.yaml')],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (/warning/i.test(out)) { console.log(out); failed = true; }
  else console.log('openapi.yaml: redocly lint clean');
} catch (e) {
  console.log(e.stdout, e.stderr);
  failed = true;
}

const parser = new Parser();
const { diagnostics } = await parser.parse(readFileSync(join(spec, 'asyncapi.yaml'), 'utf8'));
const bad = diagnostics.filter((d) => d.severity <= 1); // 0 error, 1 warning
for (const d of bad)
  console.log(`asyncapi.yaml: ${d.severity === 0 ? 'error' : 'warning'} ${d.code}: ${d.message} at ${d.path.join('.')}`);
if (bad.length) failed = true;
else console.log(`asyncapi.yaml: @asyncapi/parser clean (${diagnostics.length} hints/info)`);
process.exit(failed ? 1 : 0);
