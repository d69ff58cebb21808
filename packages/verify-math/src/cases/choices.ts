import { no, yes, type Case } from './case.js';

/** Multiple-choice letters (only when the gold answer is a letter) and text answers. */
export const choices: Case[] = [
  yes('B', 'B', 'same letter'),
  no('C', 'B', 'different letter'),
  yes('(B)', 'B', 'letter in parentheses'),
  yes('\\text{(B)}', 'B', 'letter in \\text'),
  yes('\\textbf{(D)}', '(D)', 'bold letter, gold in parentheses'),
  yes('B) 42', 'B', 'letter with the option text'),
  no('42', 'B', 'the option value is not the letter'),
  no('b', 'B', 'lower-case b is a variable, not choice B'),
  no('AB', 'A', 'two letters are not one choice'),
  yes('E', '\\text{E}', 'gold letter in \\text'),
  yes('\\text{yes}', 'Yes', 'text answers, case-insensitive'),
  no('\\text{no}', 'yes', 'text answers differ'),
  yes('\\text{odd}', 'odd', 'a word answer'),
  yes('x', 'x', 'the same single variable'),
  no('y', 'x', 'different variables'),
  yes('\\text{none}', 'None', 'word none'),
];
