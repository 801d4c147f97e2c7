import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// k6 cannot run here, so this checks what k6 would need to load each scenario: every runtime
// import (type-only imports are erased) is one of k6's built-in modules or a relative file that
// exists under its literal name (k6 resolves no extensions and has no Node built-ins or
// node_modules). The type check against @types/k6 is `npm run typecheck`.

const K6_DIR = path.resolve(import.meta.dirname, '..', 'k6');
const K6_RUNTIME_MODULES = ['k6', 'k6/http', 'k6/metrics', 'k6/execution', 'k6/timers', 'k6/websockets', 'k6/crypto', 'k6/encoding', 'k6/data'];

function runtimeImports(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const node of src.statements) {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) out.push((node.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && !node.isTypeOnly) {
      out.push((node.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return out;
}

/** Every file k6 loads for a scenario, and the problems it would hit. */
function graph(entry: string): { files: string[]; problems: string[] } {
  const files: string[] = [];
  const problems: string[] = [];
  const visit = (file: string) => {
    if (files.includes(file)) return;
    files.push(file);
    for (const spec of runtimeImports(file)) {
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec);
        if (!/\.(ts|js)$/.test(spec)) problems.push(`${path.relative(K6_DIR, file)}: "${spec}" needs its file extension for k6`);
        else if (!existsSync(target)) problems.push(`${path.relative(K6_DIR, file)}: "${spec}" does not exist`);
        else visit(target);
      } else if (!K6_RUNTIME_MODULES.includes(spec)) {
        problems.push(`${path.relative(K6_DIR, file)}: "${spec}" is not a k6 module (k6 has no Node built-ins or npm packages)`);
      }
    }
  };
  visit(entry);
  return { files, problems };
}

const scenarios = readdirSync(path.join(K6_DIR, 'scenarios')).filter((f) => f.endsWith('.ts'));

describe('k6 scenarios', () => {
  it('are the four of the load-test plan', () => {
    expect(scenarios.sort()).toEqual(['connect-storm.ts', 'hls-viewers.ts', 'http-crud.ts', 'timeline-push.ts']);
  });

  it.each(scenarios)('%s loads in k6: only k6 modules and existing relative files', (name) => {
    const { files, problems } = graph(path.join(K6_DIR, 'scenarios', name));
    expect(problems).toEqual([]);
    expect(files.some((f) => f.endsWith('lib/summary.ts'))).toBe(true);
  });

  it.each(scenarios)('%s states its SLO as thresholds and writes a JSON summary', (name) => {
    const text = readFileSync(path.join(K6_DIR, 'scenarios', name), 'utf8');
    expect(text).toMatch(/thresholds: \{/);
    expect(text).toMatch(new RegExp(`export const handleSummary = summaryHandler\\('${name.replace('.ts', '')}'`));
    expect(text).toMatch(/endpoints\(__ENV\)/);
  });

  it('catches imports k6 could not load', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flock-k6-imports-'));
    try {
      writeFileSync(path.join(dir, 'y.ts'), 'export const x = 1;\n');
      writeFileSync(
        path.join(dir, 'bad.ts'),
        "import fs from 'node:fs';\nimport { x } from './y';\nimport { z } from './missing.ts';\nimport type { Socket } from 'socket.io-client';\nimport { type Options } from 'k6/options';\nexport { fs, x, z };\n",
      );
      const { problems } = graph(path.join(dir, 'bad.ts'));
      expect(problems).toHaveLength(3);
      expect(problems.join('\n')).toMatch(/"node:fs" is not a k6 module/);
      expect(problems.join('\n')).toMatch(/"\.\/y" needs its file extension/);
      expect(problems.join('\n')).toMatch(/"\.\/missing\.ts" does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
