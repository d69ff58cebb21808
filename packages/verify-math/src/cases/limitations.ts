import type { Case } from './case.js';

const known = (pred: string, gold: string, why: string, limitation: string): Case => ({ pred, gold, expect: 'correct', why, known: limitation });

/**
 * Answers a careful grader accepts and this verifier does not (yet). They stay in the table so the
 * accuracy figure counts them; the test fails when one starts passing, so the mark gets removed.
 */
export const limitations: Case[] = [
  known('-2 < x < 2', 'x^2 < 4', 'the solved form of a gold inequality', 'relations are not solved; only simple bounds become intervals'),
  known('2 \\text{ hours } 30 \\text{ minutes}', '2.5 \\text{ hours}', 'a duration in mixed units', 'units are dropped, not converted'),
  { pred: '5 \\text{ cm}', gold: '5 \\text{ m}', expect: 'wrong', why: 'a different unit is a different length', known: 'units are dropped, not compared (a false positive)' },
];
