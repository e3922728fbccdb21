// A study's folder under the data folder: studies/<name>/ holds the recipe it was started with
// (recipe.json), which run trains each grid cell (state.json) and the report (report/).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { describeZodError } from '../../src-shared/config';
import { StudyRecipeSchema, StudyStateSchema, type StudyRecipe, type StudyState } from '../../src-shared/study';
import { homePaths } from '../home';
import { writeFileAtomically } from '../temp-files';

/** A study folder that cannot be used as asked: one line for the user. */
export class StudyError extends Error {}

export const studyDirOf = (home: string, name: string) => path.join(homePaths(home).studies, name);
export const studyReportDirOf = (home: string, name: string) => path.join(studyDirOf(home, name), 'report');

const recipeFile = (home: string, name: string) => path.join(studyDirOf(home, name), 'recipe.json');
const stateFile = (home: string, name: string) => path.join(studyDirOf(home, name), 'state.json');

/** A JSON file of a study read through its schema; any problem is a StudyError naming the file. */
export function readStudyJson<T>(file: string, schema: z.ZodType<T>, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StudyError(`cannot read ${what} ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new StudyError(`${what} ${file} is damaged or from another version: ${describeZodError(parsed.error, 3)}`);
  return parsed.data;
}

/** The recipe a study was started with, or null for a study that does not exist yet. */
export function readStoredRecipe(home: string, name: string): StudyRecipe | null {
  const file = recipeFile(home, name);
  return fs.existsSync(file) ? readStudyJson(file, StudyRecipeSchema, 'the study recipe') : null;
}

export function listStudies(home: string): string[] {
  try {
    return fs.readdirSync(homePaths(home).studies).filter((n) => fs.existsSync(recipeFile(home, n))).sort();
  } catch {
    return [];
  }
}

/** The top-level recipe fields in which two recipes differ. */
function recipeDifferences(a: StudyRecipe, b: StudyRecipe): string[] {
  return (Object.keys(a) as Array<keyof StudyRecipe>).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/** Throws StudyError when the study exists in `home` with another recipe: a study's grid never changes under its finished runs. */
export function checkSameRecipe(home: string, recipe: StudyRecipe): void {
  const stored = readStoredRecipe(home, recipe.name);
  const differ = stored ? recipeDifferences(stored, recipe) : [];
  if (differ.length) {
    throw new StudyError(`study '${recipe.name}' exists with another recipe (it differs in: ${differ.join(', ')}); `
      + `continue it with \`exitlab study run ${recipe.name}\`, or give this one another --name (folder ${studyDirOf(home, recipe.name)})`);
  }
}

/** Creates the study's folder with its recipe, or checks that an existing one was started with the same recipe. */
export function openStudyFolder(home: string, recipe: StudyRecipe): void {
  checkSameRecipe(home, recipe);
  if (!fs.existsSync(recipeFile(home, recipe.name))) {
    writeFileAtomically(recipeFile(home, recipe.name), JSON.stringify(recipe, null, 2) + '\n', 'the study recipe');
  }
}

export function readStudyState(home: string, name: string): StudyState {
  const file = stateFile(home, name);
  return fs.existsSync(file) ? readStudyJson(file, StudyStateSchema, 'the study state') : { formatVersion: 1, runs: {} };
}

export function writeStudyState(home: string, name: string, state: StudyState): void {
  writeFileAtomically(stateFile(home, name), JSON.stringify(state, null, 2) + '\n', 'the study state');
}
