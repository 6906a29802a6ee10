#!/usr/bin/env node
// grafana-check: type-checks Grafana dashboard JSON against @grafana/schema's Dashboard type
// with the TypeScript compiler: each file becomes `const d = <json> satisfies Dashboard`, so
// a misspelt field (excess property) or a wrong type is a compile error.
//
// Usage: node grafana-check.js FILE.json...   |   node grafana-check.js --self-test
// Exit status: 0 when every file type-checks, 1 otherwise, 2 on a usage error.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const TSC = require.resolve('typescript/bin/tsc');

// check returns the compiler's output for each dashboard, '' when it type-checks.
function check(dashboards) {
  // Inside this package, so that @grafana/schema resolves from node_modules.
  const dir = fs.mkdtempSync(path.join(__dirname, '.grafana-check-'));
  try {
    const files = dashboards.map((d, i) => {
      const f = path.join(dir, `dashboard${i}.ts`);
      fs.writeFileSync(f, `import type { Dashboard } from '@grafana/schema';\n\nexport const dashboard = ${d.json.trim()} satisfies Dashboard;\n`);
      return f;
    });
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: true },
      files: files.map((f) => path.basename(f)),
    }));
    try {
      execFileSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8', stdio: 'pipe' });
      return dashboards.map(() => '');
    } catch (e) {
      const out = (e.stdout || '') + (e.stderr || '');
      return dashboards.map((_, i) => out.split('\n').filter((l) => l.includes(`dashboard${i}.ts`)).join('\n') || (out && i === 0 ? out : ''));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const BAD = [
  { name: 'self-test: misspelt field', json: '{"title": "x", "schemaVersion": 39, "panels": [{"type": "table", "gridPoss": {"x": 0, "y": 0, "w": 1, "h": 1}}]}' },
  { name: 'self-test: wrong type', json: '{"title": "x", "schemaVersion": "39"}' },
  { name: 'self-test: missing required', json: '{"title": "x", "panels": []}' },
];

function main() {
  const args = process.argv.slice(2);
  if (args.length === 0) {
    console.error('usage: node grafana-check.js FILE.json... | --self-test');
    process.exit(2);
  }
  if (args[0] === '--self-test') {
    const results = check(BAD);
    let ok = true;
    BAD.forEach((b, i) => {
      const first = results[i].split('\n')[0];
      console.log(`${b.name}: ${results[i] ? 'rejected: ' + first.replace(/^.*error /, 'error ') : 'ACCEPTED'}`);
      if (!results[i]) ok = false;
    });
    console.log(ok ? 'self-test: ok' : 'self-test: FAILED (the checker let a bad dashboard through)');
    process.exit(ok ? 0 : 1);
  }
  const dashboards = args.map((f) => ({ name: f, json: fs.readFileSync(f, 'utf8') }));
  dashboards.forEach((d) => JSON.parse(d.json)); // a JSON syntax error is reported as such
  const results = check(dashboards);
  let failed = 0;
  dashboards.forEach((d, i) => {
    if (results[i]) {
      failed++;
      console.log(`${d.name}: does not satisfy @grafana/schema Dashboard:\n${results[i]}`);
    }
  });
  console.log(`grafana-check: ${dashboards.length} dashboard(s), ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
