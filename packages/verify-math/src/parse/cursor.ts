import type { Expr } from './ast.js';
import { ParseFailure, type Token } from './tokens.js';

/** Deeper nesting than this is refused (a guard against stack exhaustion, not a math limit). */
export const MAX_DEPTH = 120;

/** A position in a token slice, with the nesting guard every recursive rule enters. */
export class TokenCursor {
  i = 0;
  protected depth = 0;
  constructor(readonly toks: readonly Token[]) {}

  peek(): Token | undefined {
    return this.toks[this.i];
  }
  peekText(): string {
    return this.peek()?.v ?? 'end';
  }
  isOp(v: string): boolean {
    const t = this.peek();
    return t !== undefined && t.t === 'op' && t.v === v;
  }
  expect(v: string): void {
    if (!this.isOp(v)) throw new ParseFailure(`expected ${v}, got ${this.peekText()}`);
    this.i++;
  }
  protected enter(): void {
    if (++this.depth > MAX_DEPTH) throw new ParseFailure('nesting too deep');
  }
}

/** The precedence levels of the expression grammar, which the notation forms (notation.ts) parse their parts with. */
export interface Grammar extends TokenCursor {
  /** A sum of terms. */
  expr(): Expr;
  /** A product, implicit or explicit. */
  term(): Expr;
  /** A power (with postfix factorials). */
  power(): Expr;
  /** A braced argument `{..}` or a single-token one. */
  group(): Expr;
}
