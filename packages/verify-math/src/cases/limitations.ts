import type { Case } from './case.js';

const known = (pred: string, gold: string, why: string, limitation: string): Case => ({ pred, gold, expect: 'correct', why, known: limitation });

/**
 * Answers a careful grader accepts and this verifier does not (yet). They stay in the table so the
 * accuracy figure counts them; the test fails when one starts passing, so the mark gets removed.
 */
export const limitations: Case[] = [
  known('50\\%', '0.5', 'a percentage against its fraction', 'percent signs are dropped, not divided by 100'),
];
