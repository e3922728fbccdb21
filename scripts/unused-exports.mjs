#!/usr/bin/env node
// Fails on an export that no other file imports (tests count as importers): ESLint sees one file at
// a time and cannot tell. It parses every source, test and Svelte script with the TypeScript
// compiler (syntax only, no type check: about a second), resolves each relative import to a file,
// and reports the exported names of the checked files that no import, re-export, dynamic import or
// `import('…').Name` type names. An export used only inside its own file is reported too: drop
// the `export`. A namespace import (`import * as m`), a bare `import('…')` or a `require` of a
// file counts as using all of its exports.
//
// Usage: node scripts/unused-exports.mjs   (exit 1 and one line per unused export if any)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Whose exports are checked.
const CHECKED = ['src-main', 'src-shared', 'src-renderer/src', 'test'];
// Who may import them: the checked trees and the configs at the top and in src-renderer.
const IMPORTERS = [...CHECKED, 'scripts', '.'];
// Files whose exports are used by something this script cannot read: name -> why.
const ENTRY_EXPORTS = {
  'src-main/cli/main.ts': { main: 'bin/exitlab.js requires the compiled file by a computed path' },
};
const SKIP_DIRS = new Set(['node_modules', 'dist', 'dist-renderer', 'release', '.git', 'scratch', 'test-results']);

function walk(dir, recurse, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recurse && !SKIP_DIRS.has(entry.name) && !entry.name.startsWith('.')) walk(full, true, out);
    } else if (/\.(ts|mts|svelte|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      out.push(full);
    }
  }
  return out;
}

const rel = (file) => path.relative(root, file).split(path.sep).join('/');
const isChecked = (file) => {
  const r = rel(file);
  if (!/\.ts$/.test(r) || /\.test\.ts$/.test(r)) return false;
  return CHECKED.some((dir) => r.startsWith(`${dir}/`));
};

const files = [...new Set(IMPORTERS.flatMap((dir) => walk(path.join(root, dir), dir !== '.', [])))];

/** The TypeScript of a file: a Svelte component's <script> blocks, joined. */
function scriptOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (!file.endsWith('.svelte')) return text;
  return [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
}

function resolve(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), spec);
  const stem = base.replace(/\.(c|m)?js$/, '');
  for (const candidate of [base, `${stem}.ts`, `${stem}.mts`, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return null;
}

const hasExport = (node) => ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
const isTypeDeclaration = (node) => ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node);
const hasDefault = (node) => ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);

/** file -> Map(name -> line) of what it exports. */
const exportsOf = new Map();
/** file -> Set of names some other file uses ('*' = all). */
const used = new Map();
/** file -> files it re-exports with `export * from`. */
const starExports = new Map();

const use = (file, name) => {
  if (!used.has(file)) used.set(file, new Set());
  used.get(file).add(name);
};

for (const file of files) {
  const source = ts.createSourceFile(file, scriptOf(file), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const lineOf = (node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  /** name -> { line, isType } */
  const exported = new Map();
  const note = (name, node, isType = false) => exported.set(name, { line: lineOf(node), isType });
  /** How often each identifier appears in the file (declarations included). */
  const mentions = new Map();

  for (const st of source.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const target = resolve(file, st.moduleSpecifier.text);
      const clause = st.importClause;
      if (!target || !clause) continue;
      if (clause.name) use(target, 'default');
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) use(target, '*');
      if (bindings && ts.isNamedImports(bindings)) for (const el of bindings.elements) use(target, (el.propertyName ?? el.name).text);
    } else if (ts.isExportDeclaration(st)) {
      const target = st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier) ? resolve(file, st.moduleSpecifier.text) : null;
      if (!st.exportClause) {
        if (target) starExports.set(file, [...(starExports.get(file) ?? []), target]);
      } else if (ts.isNamedExports(st.exportClause)) {
        for (const el of st.exportClause.elements) {
          note(el.name.text, el);
          if (target) use(target, (el.propertyName ?? el.name).text);
        }
      } else if (target) {
        note(st.exportClause.name.text, st);
        use(target, '*');
      }
    } else if (ts.isExportAssignment(st)) {
      note('default', st);
    } else if (hasExport(st)) {
      if (hasDefault(st)) note('default', st);
      else if (ts.isVariableStatement(st)) {
        for (const d of st.declarationList.declarations) {
          if (ts.isIdentifier(d.name)) note(d.name.text, d);
          else for (const el of d.name.elements) if (ts.isBindingElement(el) && ts.isIdentifier(el.name)) note(el.name.text, el);
        }
      } else if (st.name && ts.isIdentifier(st.name)) note(st.name.text, st, isTypeDeclaration(st));
    }
  }

  // Dynamic imports, requires and import types anywhere in the file.
  const visit = (node) => {
    if (ts.isIdentifier(node)) mentions.set(node.text, (mentions.get(node.text) ?? 0) + 1);
    if (ts.isCallExpression(node) && node.arguments.length >= 1 && ts.isStringLiteral(node.arguments[0])) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      const target = isImport || isRequire ? resolve(file, node.arguments[0].text) : null;
      if (target) {
        // `const { a, b } = await import('./x')` uses a and b; anything else uses the whole module.
        let parent = node.parent;
        if (parent && ts.isAwaitExpression(parent)) parent = parent.parent;
        if (parent && ts.isVariableDeclaration(parent) && ts.isObjectBindingPattern(parent.name) && parent.name.elements.every((el) => !el.dotDotDotToken)) {
          for (const el of parent.name.elements) use(target, ((el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName : el.name)).text);
        } else use(target, '*');
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      const target = resolve(file, node.argument.literal.text);
      if (target) {
        if (node.qualifier) use(target, ts.isIdentifier(node.qualifier) ? node.qualifier.text : node.qualifier.left.getText(source).split('.')[0]);
        else use(target, '*');
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  for (const [name, info] of exported) info.usedInFile = (mentions.get(name) ?? 0) > 1;
  if (isChecked(file)) exportsOf.set(file, exported);
}

// A name asked of a file that re-exports `*` may come from the re-exported file.
for (const [file, targets] of starExports) {
  for (const name of used.get(file) ?? []) for (const target of targets) use(target, name);
}

const unused = [];
for (const [file, exported] of exportsOf) {
  const names = used.get(file) ?? new Set();
  if (names.has('*')) continue;
  const allowed = ENTRY_EXPORTS[rel(file)] ?? {};
  for (const [name, { line, isType, usedInFile }] of exported) {
    if (names.has(name) || name in allowed || (isType && usedInFile)) continue;
    unused.push(`${rel(file)}:${line}: '${name}' is exported but ${usedInFile ? 'only its own file uses it' : 'nothing uses it'}`);
  }
}

if (unused.length) {
  console.error(unused.sort().join('\n'));
  console.error(`\n${unused.length} unused export(s): remove what nothing uses; drop \`export\` where only its own file uses it`);
  process.exit(1);
}
console.log(`unused exports: none in ${exportsOf.size} files`);
