// A study's report as one HTML file that opens anywhere and can be mailed or archived as is: CSS
// and the figures' SVG inline, no script, no other file. The paper's published numbers may sit in
// the results table beside the measured ones, and are marked so that no one takes them for ours.
import type { FigureSpec } from '../../src-shared/study-figures';
import { duration } from '../engine/eval/paper-table';
import { escapeXml as esc } from './escape';

export interface StudyHtmlInput {
  name: string;
  /** One line under the title: what the study compares, on which data. */
  description: string;
  /** Cells already formatted; `paper` rows are the paper's published numbers. */
  results: { header: string[]; rows: { cells: string[]; source: 'measured' | 'paper' }[] };
  runs: { label: string; status: string; epochs: number; trainSeconds: number | null }[];
  notes: string[];
  /** Each figure with its SVG document (renderFigureSvg's). */
  figures: { spec: FigureSpec; svg: string }[];
}

const PAPER_TAG = 'reported by the paper';
// Numbers, percentages, durations and the dash of an empty cell line up on the right.
const NUMERIC = /^(?:[-+]?\d[\d,.]*\s*(?:%|s|min|h)?|–|-)$/;

export function renderStudyHtml(input: StudyHtmlInput): string {
  const sections = [resultsSection(input.results), runsSection(input.runs), figuresSection(input.figures), notesSection(input.notes)];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(input.name)} · ExitLab study</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header><h1>${esc(input.name)}</h1><p class="description">${esc(input.description)}</p></header>`,
    ...sections.filter((s) => s !== ''),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function resultsSection(results: StudyHtmlInput['results']): string {
  if (results.rows.length === 0) return '';
  const hasPaper = results.rows.some((r) => r.source === 'paper');
  const legend = hasPaper
    ? `<p class="legend">Rows in italics, tagged <span class="tag">${PAPER_TAG}</span>, are the numbers the paper published (Chen et al., Neural Networks ` +
      `2022), not measured in this study.</p>`
    : '';
  const head = `<thead><tr>${results.header.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>`;
  const body = results.rows.map((row) => {
    const cells = row.cells.map((c, i) => {
      const tag = row.source === 'paper' && i === 0 ? ` <span class="tag">${PAPER_TAG}</span>` : '';
      return `<td${numericClass(c)}>${esc(c)}${tag}</td>`;
    });
    return `<tr class="${row.source}">${cells.join('')}</tr>`;
  });
  return section('Results', `${legend}<table class="results">${head}<tbody>${body.join('')}</tbody></table>`);
}

function runsSection(runs: StudyHtmlInput['runs']): string {
  if (runs.length === 0) return '';
  const head = '<thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Epochs</th><th scope="col">Training time</th></tr></thead>';
  const body = runs.map((r) =>
    `<tr><td>${esc(r.label)}</td><td>${esc(r.status)}</td><td class="num">${r.epochs}</td><td class="num">${esc(duration(r.trainSeconds))}</td></tr>`);
  return section('Runs', `<table>${head}<tbody>${body.join('')}</tbody></table>`);
}

function figuresSection(figures: StudyHtmlInput['figures']): string {
  if (figures.length === 0) return '';
  const items = figures.map(({ spec, svg }) =>
    `<figure id="figure-${esc(spec.id)}"><h3>${esc(spec.title)}</h3>` +
    `${svg.replace(/^\s*<\?xml[^>]*\?>\s*/, '')}<figcaption>${esc(spec.caption)}</figcaption></figure>`);
  return section('Figures', items.join('\n'));
}

function notesSection(notes: string[]): string {
  if (notes.length === 0) return '';
  return section('Notes', `<ul class="notes">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
}

const section = (title: string, body: string) => `<section><h2>${esc(title)}</h2>\n${body}\n</section>`;

const numericClass = (cell: string) => (NUMERIC.test(cell.trim()) ? ' class="num"' : '');

const STYLE = `
:root { color: #2e3440; background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; }
main { max-width: 1480px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 32px 0 10px; border-bottom: 1px solid #d8dee9; padding-bottom: 4px; }
h3 { font-size: 1rem; margin: 0 0 6px; }
.description { color: #4c566a; margin: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 8px 0; }
th, td { padding: 4px 12px; border-bottom: 1px solid #e5e9f0; text-align: left; vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
tr.paper td { font-style: italic; color: #5e6779; background: #fbf8ef; }
.tag { font-style: normal; font-size: 0.75rem; color: #7a5d00; background: #f5e7b8; border-radius: 3px; padding: 1px 6px; margin-left: 6px;
  white-space: nowrap; }
.legend { color: #4c566a; font-size: 0.9rem; }
figure { margin: 0 0 28px; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: #4c566a; font-size: 0.9rem; max-width: 80ch; margin-top: 4px; }
.notes li { margin: 2px 0; }
@media print { main { padding: 0; } figure { break-inside: avoid; } }
`;
