// The FIQL subset VCD clients send: `field==value`, `!=`, the comparisons `=gt=`, `=ge=`, `=lt=`,
// `=le=` (numbers numerically, other values such as ISO dates as text), `;` (and), `,` (or),
// parentheses, dotted paths (orgRef.id) and `*` wildcards in values. Anything else is a parse error, which VCD
// reports as 400 with a QueryParseException message.
import { VcdError } from './errors.ts';

export type FiqlComparison = '==' | '!=' | '=gt=' | '=ge=' | '=lt=' | '=le=';

export type Fiql = { op: 'and' | 'or'; terms: Fiql[] } | { op: FiqlComparison; field: string; value: string };

export function parseFiql(text: string): Fiql {
  let pos = 0;
  const fail = (why: string): never => {
    throw new VcdError(400, 'BAD_REQUEST', `QueryParseException: Cannot parse the supplied filter: ${text} (${why})`);
  };
  const parseOr = (): Fiql => {
    const terms = [parseAnd()];
    while (text[pos] === ',') {
      pos++;
      terms.push(parseAnd());
    }
    return terms.length === 1 ? (terms[0] as Fiql) : { op: 'or', terms };
  };
  const parseAnd = (): Fiql => {
    const terms = [parseTerm()];
    while (text[pos] === ';') {
      pos++;
      terms.push(parseTerm());
    }
    return terms.length === 1 ? (terms[0] as Fiql) : { op: 'and', terms };
  };
  const parseTerm = (): Fiql => {
    if (text[pos] === '(') {
      pos++;
      const inner = parseOr();
      if (text[pos] !== ')') fail('missing )');
      pos++;
      return inner;
    }
    const m = /^([A-Za-z_][\w.]*)(==|!=|=gt=|=ge=|=lt=|=le=)([^;,()]*)/.exec(text.slice(pos));
    if (!m) return fail(`unexpected input at ${pos}`);
    pos += m[0].length;
    const value = m[3] as string;
    if (value === '') fail('empty value');
    return { op: m[2] as FiqlComparison, field: m[1] as string, value };
  };
  const ast = parseOr();
  if (pos !== text.length) fail(`unexpected input at ${pos}`);
  return ast;
}

/** Reads a dotted path from a rendered object. */
export function pathValue(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function matchesFiql(ast: Fiql, obj: unknown, resolve: (obj: unknown, field: string) => unknown = pathValue): boolean {
  switch (ast.op) {
    case 'and':
      return ast.terms.every((t) => matchesFiql(t, obj, resolve));
    case 'or':
      return ast.terms.some((t) => matchesFiql(t, obj, resolve));
    case '==':
    case '!=': {
      const equal = valueMatches(resolve(obj, ast.field), ast.value);
      return ast.op === '==' ? equal : !equal;
    }
    default: {
      const order = compareValue(resolve(obj, ast.field), ast.value);
      if (order === undefined) return false;
      return ast.op === '=gt=' ? order > 0 : ast.op === '=ge=' ? order >= 0 : ast.op === '=lt=' ? order < 0 : order <= 0;
    }
  }
}

/** Orders a value against a filter operand: numerically when both are numbers, else as text. */
function compareValue(actual: unknown, operand: string): number | undefined {
  if (actual === undefined || actual === null) return undefined;
  const text = typeof actual === 'string' ? actual : typeof actual === 'number' ? String(actual) : JSON.stringify(actual);
  const a = Number(text);
  const b = Number(operand);
  if (text.trim() !== '' && operand.trim() !== '' && Number.isFinite(a) && Number.isFinite(b)) return a - b;
  return text < operand ? -1 : text > operand ? 1 : 0;
}

function valueMatches(actual: unknown, pattern: string): boolean {
  if (actual === undefined || actual === null) return pattern === 'null';
  const text = typeof actual === 'string' ? actual : JSON.stringify(actual);
  if (!pattern.includes('*')) return text === pattern;
  const re = new RegExp(`^${pattern.split('*').map(escapeRe).join('.*')}$`);
  return re.test(text);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The value of `field==value` when the filter requires it (a top-level term or a term of a
 * top-level AND), which is how VCD checks the filters some lists insist on.
 */
export function requiredTerm(ast: Fiql | undefined, field: string): string | undefined {
  if (!ast) return undefined;
  const terms = ast.op === 'and' ? ast.terms : [ast];
  for (const t of terms) if (t.op === '==' && t.field === field) return t.value;
  return undefined;
}

/** The filter without the terms a route consumed itself (e.g. gatewayId on floatingIpSuggestions). */
export function withoutTerms(ast: Fiql | undefined, fields: readonly string[]): Fiql | undefined {
  if (!ast) return undefined;
  if (!('terms' in ast)) return fields.includes(ast.field) ? undefined : ast;
  if (ast.op === 'or') return ast;
  const terms = ast.terms.filter((t) => 'terms' in t || !fields.includes(t.field));
  if (terms.length === 0) return undefined;
  return terms.length === 1 ? terms[0] : { op: 'and', terms };
}
