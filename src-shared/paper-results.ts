// What the paper reports (Chen et al. 2022, CIFAR-10, ε = 8/255, from its published tables), so that
// a study's report can show the published rows beside the measured ones, labelled as the paper's.
import type { EvalAttack } from './evaluation';
import type { Method } from './config';

export interface PaperReportedRow {
  /** The paper's name of the method. */
  name: string;
  /** Our method that implements it (null: not implemented here yet). */
  method: Method | null;
  /** Accuracy (%) of the last exit per attack column, and the training time in minutes. */
  accuracy: Partial<Record<EvalAttack, number>>;
  trainMinutes: number;
}

/** The paper's "PGD" column is PGD-20 and its CW column CW-100 (100 steps of the CW margin loss). */
export const PAPER_CIFAR10_ROWS: readonly PaperReportedRow[] = [
  { name: 'PGD-10', method: 'pgd-at', accuracy: { clean: 81.97, pgd20: 41.56, bim: 40.65, mim: 42.89, cw100: 66.49, aa: 29.83 }, trainMinutes: 881.4 },
  { name: 'TRADES', method: 'trades', accuracy: { clean: 78.11, pgd20: 48.9, bim: 48.83, mim: 49.48, cw100: 54.55, aa: 35.31 }, trainMinutes: 406.9 },
  { name: 'Free-8', method: 'free', accuracy: { clean: 73.46, pgd20: 41.3, bim: 41.31, mim: 42.55, cw100: 53.21, aa: 29.48 }, trainMinutes: 73.3 },
  { name: 'Fast FGSM', method: 'fgsm-rs', accuracy: { clean: 79.99, pgd20: 42.85, bim: 42.62, mim: 42.23, cw100: 61.23, aa: 32.92 }, trainMinutes: 64.3 },
  { name: 'GradAlign', method: 'gradalign', accuracy: { clean: 82.78, pgd20: 44.46, bim: 44.19, mim: 42.67, cw100: 69.06, aa: 37.26 }, trainMinutes: 364.5 },
  { name: 'proposed', method: 'fgsm-me', accuracy: { clean: 81.93, pgd20: 49.3, bim: 48.97, mim: 47.0, cw100: 74.34, aa: 43.9 }, trainMinutes: 201.5 },
];
