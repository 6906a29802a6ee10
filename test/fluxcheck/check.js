#!/usr/bin/env node
// fluxcheck: type-checks Flux with the current Flux language server (@influxdata/flux-lsp-node,
// WASM, in-process) and fails on any error diagnostic.
//
// Usage: node check.js PATH...
//   PATH may be a directory (searched recursively) or a file:
//     *.flux  checked as is
//     *.tick  every queryFlux('''…''') body
//     *.json  every string under a "query" key (dashboards: InfluxDB 2 templates and their
//             variables, Chronograf exports, Grafana panels), unless its object says language
//             "influxql" (InfluxDB 2) or type "influxql" (a Chronograf InfluxQL cell) or is a
//             Grafana variable whose query is not Flux (datasource, textbox, constant, custom,
//             interval)
//   Grafana's ${variable} references are replaced by the variable's default first.
//   Queries that use the dashboard variable record `v` (v.timeRangeStart, v.bucket, …) are
//   checked with a stand-in `v` of the same field types prepended, as the UI provides it.
// Usage: node check.js --self-test
//   proves the checker can fail: known-bad snippets must each yield an error.
//
// Exit status: 0 when no query has an error, 1 otherwise, 2 on a usage error.
'use strict';

const fs = require('fs');
const path = require('path');
const { Lsp } = require('@influxdata/flux-lsp-node');

const SEVERITY = { 1: 'error', 2: 'warning', 3: 'info', 4: 'hint' };

// The fields InfluxDB 2, Chronograf and Grafana put in `v`; the generator only uses these.
const V_STUB = 'v = {timeRangeStart: -1h, timeRangeStop: now(), windowPeriod: 1m, bucket: "telegraf"}\n';

// grafanaVariables maps a Grafana dashboard's template variables to their default values.
function grafanaVariables(doc) {
  const vars = {};
  const list = (doc && doc.templating && doc.templating.list) || [];
  for (const v of list) vars[v.name] = v.current ? v.current.value : v.query;
  return vars;
}

// interpolate replaces ${name} with the variable's value, as Grafana does before it sends a
// query (in Flux, ${…} inside a string would be Flux's own interpolation).
function interpolate(query, vars) {
  return query.replace(/\$\{(\w+)\}/g, (m, name) => (name in vars ? vars[name] : m));
}

// Grafana variable types whose "query" holds a plain value, not Flux.
const NOT_FLUX_VARIABLES = ['datasource', 'textbox', 'constant', 'custom', 'interval'];

function collect(p, out) {
  const st = fs.statSync(p);
  if (st.isDirectory()) {
    for (const name of fs.readdirSync(p).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      collect(path.join(p, name), out);
    }
    return;
  }
  const text = fs.readFileSync(p, 'utf8');
  if (p.endsWith('.flux')) {
    out.push({ name: p, text });
  } else if (p.endsWith('.tick')) {
    const re = /queryFlux\('''([\s\S]*?)'''\)/g;
    let m, i = 0;
    while ((m = re.exec(text)) !== null) out.push({ name: `${p}#queryFlux${i++}`, text: m[1] });
  } else if (p.endsWith('.json')) {
    const doc = JSON.parse(text);
    const grafanaVars = grafanaVariables(doc);
    const walk = (node, trail) => {
      if (Array.isArray(node)) node.forEach((n, k) => walk(n, `${trail}[${k}]`));
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'query' && typeof v === 'string') {
            if (node.language !== 'influxql' && node.type !== 'influxql' && !NOT_FLUX_VARIABLES.includes(node.type)) {
              out.push({ name: `${p}#${trail}.query`, text: interpolate(v, grafanaVars) });
            }
          } else walk(v, `${trail}.${k}`);
        }
      }
    };
    walk(doc, '');
  }
}

// prepare returns the text the server sees and how many lines were prepended.
function prepare(text) {
  if (/\bv\.[A-Za-z]/.test(text) && !/^v\s*=/m.test(text)) {
    // Imports must come first: the stand-in goes after the last one, on its line, so that no
    // line moves.
    const imports = [...text.matchAll(/^import\s+"[^"\n]*"[ \t]*$/gm)];
    if (imports.length > 0) {
      const last = imports[imports.length - 1];
      const end = last.index + last[0].length;
      return { text: text.slice(0, end) + ' ' + V_STUB.trimEnd() + text.slice(end), offset: 0 };
    }
    return { text: V_STUB + text, offset: 1 };
  }
  return { text, offset: 0 };
}

async function diagnose(queries) {
  const lsp = new Lsp();
  const waiting = new Map();
  lsp.onMessage((raw) => {
    const msg = JSON.parse(raw);
    if (msg.method === 'textDocument/publishDiagnostics') {
      const w = waiting.get(msg.params.uri);
      if (w) { waiting.delete(msg.params.uri); w(msg.params.diagnostics); }
    }
  });
  lsp.run().catch((e) => { console.error(`flux-lsp stopped: ${e}`); process.exit(1); });
  const send = (o) => lsp.send(JSON.stringify({ jsonrpc: '2.0', ...o }));
  await send({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
  await send({ method: 'initialized', params: {} });
  const results = [];
  for (const [i, q] of queries.entries()) {
    // One directory per query: the server treats files in one directory as one package.
    const uri = `file:///q${i}/query.flux`;
    const { text, offset } = prepare(q.text);
    const got = new Promise((resolve, reject) => {
      waiting.set(uri, resolve);
      setTimeout(() => reject(new Error(`no diagnostics for ${q.name} within 30 s`)), 30000).unref();
    });
    await send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'flux', version: 1, text } } });
    const diags = await got;
    await send({ method: 'textDocument/didClose', params: { textDocument: { uri } } });
    results.push({ q, offset, diags });
  }
  return results;
}

function report(results) {
  let errors = 0;
  for (const { q, offset, diags } of results) {
    for (const d of diags) {
      // Diagnostics about the prepended stand-in for `v` are not about the query.
      if (d.range.start.line < offset) continue;
      const sev = SEVERITY[d.severity] || `severity ${d.severity}`;
      if (d.severity === 1) errors++;
      const line = d.range.start.line - offset + 1;
      console.log(`${q.name}:${line}:${d.range.start.character + 1}: ${sev}: ${d.message}`);
    }
  }
  return errors;
}

const BAD = [
  { name: 'self-test: misspelled argument', text: 'from(bucket: "b") |> range(strt: -1h)\n' },
  { name: 'self-test: undefined identifier', text: 'from(bucket: bucket) |> range(start: -1h)\n' },
  { name: 'self-test: syntax', text: 'from(bucket: "b") |> map(fn: (r) => ({r with x: 1})\n' },
  { name: 'self-test: type', text: 'x = 1 + "a"\n' },
];

async function main() {
  const args = process.argv.slice(2);
  if (args.length === 0) {
    console.error('usage: node check.js PATH... | --self-test');
    process.exit(2);
  }
  if (args[0] === '--self-test') {
    const results = await diagnose(BAD);
    let ok = true;
    for (const { q, diags } of results) {
      const n = diags.filter((d) => d.severity === 1).length;
      console.log(`${q.name}: ${n} error(s)${n ? ': ' + diags[0].message : ''}`);
      if (n === 0) ok = false;
    }
    console.log(ok ? 'self-test: ok' : 'self-test: FAILED (the checker let a bad query through)');
    process.exit(ok ? 0 : 1);
  }
  const queries = [];
  for (const a of args) collect(a, queries);
  if (queries.length === 0) {
    console.error(`fluxcheck: no Flux found in ${args.join(' ')}`);
    process.exit(1);
  }
  const errors = report(await diagnose(queries));
  console.log(`fluxcheck: ${queries.length} queries, ${errors} error(s)`);
  process.exit(errors ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
