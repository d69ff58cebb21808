/**
 * Run files on disk: the recipes shipped with the learner, `recipe: NAME` (a run file builds on a
 * recipe: objects merge, lists are replaced), YAML reading with errors that name the file.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ValidationError } from '@acereason/protocol';
import { parseString, type RawObject } from './units.js';
import { compileRunConfig, type RunConfig } from './run-config.js';

/** The recipes shipped with the learner (`recipe: NAME` in a run file builds on one). */
export const RECIPES = ['acereason-7b', 'demo'] as const;

export function recipePath(name: string): string {
  if (!(RECIPES as readonly string[]).includes(name)) throw new ValidationError('recipe', `unknown recipe "${name}" (shipped: ${RECIPES.join(', ')})`);
  return fileURLToPath(new URL(`../../recipes/${name}.yaml`, import.meta.url));
}

/** Objects merge key by key; anything else (lists included, so `stages`) is replaced by the override. */
export function mergeConfig(base: unknown, override: unknown): unknown {
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof override !== 'object' || override === null || Array.isArray(override)) return override === undefined ? base : override;
  const out: RawObject = { ...(base as RawObject) };
  for (const [k, v] of Object.entries(override)) out[k] = mergeConfig(out[k], v);
  return out;
}

function readYaml(path: string, field: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValidationError(field, `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new ValidationError(field, `${path} is not valid YAML: ${(err as Error).message}`);
  }
}

/** A shipped recipe's document as written (before any run file builds on it). */
export function loadRecipe(name: string): unknown {
  return readYaml(recipePath(name), 'recipe');
}

/**
 * Compiles a run file's document already in memory the way `loadRunConfig` does a file: a
 * `recipe: NAME` key builds on that recipe, then `overrides` edit the merged document, and paths
 * resolve against `baseDir`.
 */
export function compileRunDocument(raw: unknown, baseDir: string, overrides: (raw: RawObject) => void = () => undefined): RunConfig {
  let doc = raw;
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'recipe' in doc) {
    const { recipe, ...rest } = doc as RawObject;
    doc = mergeConfig(loadRecipe(parseString(recipe, 'recipe')), rest);
  }
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) overrides(doc as RawObject);
  return compileRunConfig(doc, baseDir);
}

/** Reads and compiles a YAML run file; YAML syntax errors carry the line. */
export function loadRunConfig(path: string, overrides: (raw: RawObject) => void = () => undefined): RunConfig {
  return compileRunDocument(readYaml(path, 'config'), dirname(resolve(path)), overrides);
}
