/** The one schema every input format is normalised into; what the learner's datasets read. */
export type CurateDomain = 'math' | 'code';

export interface MathRow {
  domain: 'math';
  id: string;
  problem: string;
  /** The reference answer; empty when the source had none (the answer filter removes it). */
  answer: string;
  /** Line of the input file the row came from (1-based; array element index + 1 for JSON arrays). */
  line: number;
  /** Source hints carried from the input (e.g. NuminaMath `question_type`). */
  hints: RowHints;
}

export interface CodeTestSet {
  inputs: unknown[];
  outputs: unknown[];
  fn_name?: string;
}

export interface CodeRow {
  domain: 'code';
  id: string;
  problem: string;
  tests: CodeTestSet;
  /** Reference solutions in Python, in source order (may be empty). */
  solutions: string[];
  time_limit_s?: number;
  memory_mb?: number;
  line: number;
  hints: RowHints;
}

export interface RowHints {
  questionType?: string;
  specialJudge?: boolean;
}

export type CurateRow = MathRow | CodeRow;

/** Why a row left the pipeline. `matched` names the benchmark item or the kept duplicate. */
export interface Removal {
  id: string;
  line: number;
  step: string;
  reason: string;
  detail?: string;
  matched?: string;
}

/** A row that could not be read: its line and what is wrong. */
export interface RowError {
  line: number;
  message: string;
}
