/**
 * Finds async tests without a timeout. A test of node:test is `it(name, [options], fn)` or
 * `test(...)`; it has a timeout when its options give one (an object literal with `timeout`, or
 * a constant of the file bound to one), or when a `describe` around it does (node:test hands a
 * suite's timeout down to each test in it). Read with the TypeScript parser, so a test inside a
 * loop or a helper is found too.
 */
import ts from 'typescript';

/** A test that lacks a timeout: where it is and its name as written. */
export interface Untimed {
  readonly line: number;
  readonly name: string;
}

const TEST_CALLS = new Set(['it', 'test']);
const SUITE_CALLS = new Set(['describe', 'suite']);

/** The async tests of one file's source that have no timeout. */
export function untimedTests(fileName: string, source: string): Untimed[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  // Top-level `const X = { timeout: ... }` (possibly `as const`), usable as an options argument.
  const timed = new Set<string>();
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st)) continue;
    for (const d of st.declarationList.declarations) {
      if (ts.isIdentifier(d.name) && d.initializer && hasTimeout(unwrap(d.initializer), timed))
        timed.add(d.name.text);
    }
  }
  const out: Untimed[] = [];
  const visit = (node: ts.Node, inherited: boolean): void => {
    if (ts.isCallExpression(node)) {
      const callee = calleeName(node.expression);
      const options = node.arguments.find(
        (a) => ts.isObjectLiteralExpression(unwrap(a)) || ts.isIdentifier(a),
      );
      const own = options !== undefined && hasTimeout(unwrap(options), timed);
      if (callee !== undefined && SUITE_CALLS.has(callee)) {
        for (const a of node.arguments) visit(a, inherited || own);
        return;
      }
      if (callee !== undefined && TEST_CALLS.has(callee)) {
        const fn = node.arguments.at(-1);
        const isAsync =
          fn !== undefined &&
          (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) &&
          (ts.getCombinedModifierFlags(fn) & ts.ModifierFlags.Async) !== 0;
        if (isAsync && !own && !inherited) {
          const first = node.arguments[0];
          const name =
            first !== undefined && ts.isStringLiteralLike(first) ? first.text : (first?.getText(sf) ?? '');
          out.push({ line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, name });
        }
        for (const a of node.arguments) visit(a, inherited || own);
        return;
      }
    }
    ts.forEachChild(node, (child) => visit(child, inherited));
  };
  visit(sf, false);
  return out;
}

function unwrap(e: ts.Node): ts.Node {
  let x = e;
  while (ts.isAsExpression(x) || ts.isParenthesizedExpression(x) || ts.isSatisfiesExpression(x))
    x = x.expression;
  return x;
}

function calleeName(e: ts.Expression): string | undefined {
  if (ts.isIdentifier(e)) return e.text;
  // t.test(...) inside a test, describe.skip(...), it.only(...)
  if (ts.isPropertyAccessExpression(e)) {
    if (TEST_CALLS.has(e.name.text) || SUITE_CALLS.has(e.name.text)) return e.name.text;
    if (ts.isIdentifier(e.expression)) return e.expression.text;
  }
  return undefined;
}

/** An object literal with a `timeout` property (or a spread of a timed constant), or a timed constant. */
function hasTimeout(e: ts.Node, timed: ReadonlySet<string>): boolean {
  if (ts.isIdentifier(e)) return timed.has(e.text);
  if (!ts.isObjectLiteralExpression(e)) return false;
  return e.properties.some(
    (p) =>
      ((ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) &&
        ts.isIdentifier(p.name) &&
        p.name.text === 'timeout') ||
      (ts.isSpreadAssignment(p) && hasTimeout(unwrap(p.expression), timed)),
  );
}
