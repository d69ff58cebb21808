import { adversarial } from './adversarial.js';
import type { Case } from './case.js';
import { choices } from './choices.js';
import { collections } from './collections.js';
import { coverage } from './coverage.js';
import { expressions } from './expressions.js';
import { extraction } from './extraction.js';
import { intervals } from './intervals.js';
import { limitations } from './limitations.js';
import { normalization } from './normalization.js';
import { numbers } from './numbers.js';
import { relations } from './relations.js';
import { nestedBraces, severalBoxes, truncatedAndHidden } from './responses.js';

/** Every case table, by category. */
export const CASES: Record<string, Case[]> = {
  extraction,
  severalBoxes,
  nestedBraces,
  truncatedAndHidden,
  normalization,
  numbers,
  expressions,
  relations,
  intervals,
  collections,
  choices,
  adversarial,
  coverage,
  limitations,
};

export type { Case } from './case.js';
