// Generates src/protocol.gen.ts from sync_protocol/schema/*.json (the protocol's JSON Schema).
// `--check` fails when the committed file is stale, so the PWA never invents a protocol shape.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

const here = dirname(fileURLToPath(import.meta.url));
const schemaDir = join(here, '..', '..', 'sync_protocol', 'schema');
const out = join(here, '..', 'src', 'protocol.gen.ts');

// Field titles would become one type alias per field; only object schemas keep their names.
function stripFieldTitles(node) {
  if (Array.isArray(node)) return node.forEach(stripFieldTitles);
  if (!node || typeof node !== 'object') return;
  if (node.type !== 'object' && !node.properties) delete node.title;
  for (const v of Object.values(node)) stripFieldTitles(v);
}

const files = readdirSync(schemaDir)
  .filter((f) => f.endsWith('.json') && f !== 'protocol.json')
  .sort();
const parts = ['// Generated from sync_protocol/schema by scripts/gen-protocol-types.mjs. Do not edit.\n/* eslint-disable */\n'];
const seen = new Set();
for (const f of files) {
  const schema = JSON.parse(readFileSync(join(schemaDir, f), 'utf8'));
  const base = f.replace(/\.json$/, '');
  const name = base
    .split(/[.\-_]/)
    .map((s) => s.charAt(0).toUpperCase() + s.slice(1))
    .join('');
  stripFieldTitles(schema);
  schema.title = name;
  let ts = await compile(schema, name, { bannerComment: '', additionalProperties: false, strictIndexSignatures: true });
  // Drop duplicate helper declarations shared between files ($defs such as PutOp).
  ts = ts
    .split(/\n(?=export )/)
    .filter((decl) => {
      const m = decl.match(/^export (?:interface|type) (\w+)/);
      if (!m) return true;
      if (seen.has(m[1])) return false;
      seen.add(m[1]);
      return true;
    })
    .join('\n');
  parts.push(ts);
}
const meta = JSON.parse(readFileSync(join(schemaDir, 'protocol.json'), 'utf8'));
parts.push(`export const PROTOCOL = ${JSON.stringify(meta, null, 2)} as const;\n`);
const text = parts.join('\n');
if (process.argv.includes('--check')) {
  if (!existsSync(out) || readFileSync(out, 'utf8') !== text) {
    console.error('pwa/src/protocol.gen.ts is stale: run `npm run gen` in pwa/');
    process.exit(1);
  }
  console.log('protocol types are current');
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
