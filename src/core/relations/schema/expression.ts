// Permission expressions: `(owner | editor | parent->read) - banned`.
//
//   expr   := term (('|' | '-') term)*     union and exclusion: one level, left to right
//   term   := factor ('&' factor)*          intersection binds tighter
//   factor := '(' expr ')' | name ('->' name)?
//
// So `a | b - c` is `(a | b) - c`, `a - b | c` is `(a - b) | c`, and `a | b & c` is
// `a | (b & c)`, as with + - and × in arithmetic. Parentheses say the rest.

export type Expr =
  | { op: 'name'; name: string; column: number }
  | { op: 'arrow'; via: string; target: string; column: number }
  | { op: 'union' | 'intersection'; args: Expr[] }
  | { op: 'exclusion'; base: Expr; subtract: Expr };

export class ExpressionError extends Error {
  constructor(message: string, readonly column: number) {
    super(message);
    this.name = 'ExpressionError';
  }
}

type Token = { kind: 'name'; value: string; column: number } | { kind: 'op'; value: string; column: number } | { kind: 'end'; value: ''; column: number };

const MAX_LENGTH = 4096;
const MAX_DEPTH = 32;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const column = i + 1;
    if (c === '-' && source[i + 1] === '>') {
      tokens.push({ kind: 'op', value: '->', column });
      i += 2;
    } else if ('|&-()'.includes(c)) {
      tokens.push({ kind: 'op', value: c, column });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z0-9_]+/.exec(source.slice(i))!;
      tokens.push({ kind: 'name', value: m[0], column });
      i += m[0].length;
    } else {
      throw new ExpressionError(`unexpected '${c}' at column ${column} (operators: | & - -> and parentheses)`, column);
    }
  }
  tokens.push({ kind: 'end', value: '', column: source.length + 1 });
  return tokens;
}

export function parseExpression(source: string): Expr {
  if (source.length > MAX_LENGTH) throw new ExpressionError(`longer than ${MAX_LENGTH} characters`, 1);
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const describe = (t: Token): string => (t.kind === 'end' ? 'the end' : `'${t.value}' at column ${t.column}`);

  const expr = (depth: number): Expr => {
    if (depth > MAX_DEPTH) throw new ExpressionError(`parentheses nest deeper than ${MAX_DEPTH}`, peek().column);
    let left = term(depth);
    for (;;) {
      const t = peek();
      if (t.kind !== 'op' || (t.value !== '|' && t.value !== '-')) return left;
      pos++;
      const right = term(depth);
      if (t.value === '-') left = { op: 'exclusion', base: left, subtract: right };
      else left = left.op === 'union' ? { op: 'union', args: [...left.args, right] } : { op: 'union', args: [left, right] };
    }
  };
  const term = (depth: number): Expr => {
    let left = factor(depth);
    while (peek().kind === 'op' && peek().value === '&') {
      pos++;
      const right = factor(depth);
      left = left.op === 'intersection' ? { op: 'intersection', args: [...left.args, right] } : { op: 'intersection', args: [left, right] };
    }
    return left;
  };
  const factor = (depth: number): Expr => {
    const t = peek();
    if (t.kind === 'op' && t.value === '(') {
      pos++;
      const inner = expr(depth + 1);
      const close = peek();
      if (close.kind !== 'op' || close.value !== ')') throw new ExpressionError(`expected ')' but found ${describe(close)}`, close.column);
      pos++;
      return inner;
    }
    if (t.kind !== 'name') throw new ExpressionError(`expected a relation or permission name but found ${describe(t)}`, t.column);
    pos++;
    const arrow = peek();
    if (arrow.kind === 'op' && arrow.value === '->') {
      pos++;
      const target = peek();
      if (target.kind !== 'name') throw new ExpressionError(`expected a name after '->' but found ${describe(target)}`, target.column);
      pos++;
      return { op: 'arrow', via: t.value, target: target.value, column: t.column };
    }
    return { op: 'name', name: t.value, column: t.column };
  };

  const result = expr(0);
  const rest = peek();
  if (rest.kind !== 'end') throw new ExpressionError(`unexpected ${describe(rest)}`, rest.column);
  return result;
}

/** The expression written back, fully parenthesised where operators mix. */
export function formatExpression(e: Expr): string {
  switch (e.op) {
    case 'name':
      return e.name;
    case 'arrow':
      return `${e.via}->${e.target}`;
    case 'union':
      return e.args.map((a) => (a.op === 'exclusion' ? `(${formatExpression(a)})` : formatExpression(a))).join(' | ');
    case 'intersection':
      return e.args.map((a) => (a.op === 'union' || a.op === 'exclusion' ? `(${formatExpression(a)})` : formatExpression(a))).join(' & ');
    case 'exclusion': {
      const wrap = (x: Expr) => (x.op === 'union' || x.op === 'exclusion' ? `(${formatExpression(x)})` : formatExpression(x));
      return `${wrap(e.base)} - ${wrap(e.subtract)}`;
    }
  }
}
