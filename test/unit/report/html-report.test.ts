// The study's HTML report: one file with everything inline, every user text escaped, and the
// paper's published rows told apart from the measured ones.
import { describe, expect, it } from 'vitest';
import { renderStudyHtml, type StudyHtmlInput } from '../../../src-main/report/html-report';
import { renderFigureSvg } from '../../../src-main/report/render-figure';
import { studyFigures } from '../../../src-shared/study-figures';
import { twoRuns } from '../shared/study-fixtures';

function input(extra: Partial<StudyHtmlInput> = {}): StudyHtmlInput {
  return {
    name: 'CIFAR-10 <replication>',
    description: 'fgsm-me against fgsm & pgd-at, 3 seeds',
    results: {
      header: ['Method', 'Clean', 'PGD-20', 'Training time'],
      rows: [
        { cells: ['fgsm-me <λ paper>', '80.1', '47.9', '12.5 min'], source: 'measured' },
        { cells: ['proposed (Chen et al.)', '81.93', '49.30', '201.5 min'], source: 'paper' },
      ],
    },
    runs: [
      { label: 'fgsm-me · <seed 0>', status: 'completed', epochs: 3, trainSeconds: 750 },
      { label: 'pgd-at · seed 0', status: 'failed', epochs: 1, trainSeconds: null },
    ],
    notes: ['ε = 8/255 & "PGD-20" <aimed at max-average>'],
    figures: [],
    ...extra,
  };
}

const rowsOf = (html: string) => [...html.matchAll(/<tr class="(measured|paper)">(.*?)<\/tr>/g)].map((m) => ({ source: m[1], html: m[2] }));

describe('study HTML report', () => {
  it('escapes every text it is given', () => {
    const html = renderStudyHtml(input());
    expect(html).toContain('<title>CIFAR-10 &lt;replication&gt; · ExitLab study</title>');
    expect(html).toContain('<h1>CIFAR-10 &lt;replication&gt;</h1>');
    expect(html).toContain('<p class="description">fgsm-me against fgsm &amp; pgd-at, 3 seeds</p>');
    expect(html).toContain('<td>fgsm-me &lt;λ paper&gt;</td>');
    expect(html).toContain('<td>fgsm-me · &lt;seed 0&gt;</td>');
    expect(html).toContain('<li>ε = 8/255 &amp; &quot;PGD-20&quot; &lt;aimed at max-average&gt;</li>');
    expect(html).not.toMatch(/<(replication|seed|aimed|λ)/);
  });

  it('labels and styles the paper rows apart from the measured ones', () => {
    const html = renderStudyHtml(input());
    const rows = rowsOf(html);
    expect(rows.map((r) => r.source)).toEqual(['measured', 'paper']);
    expect(rows[1].html).toContain('proposed (Chen et al.) <span class="tag">reported by the paper</span>');
    expect(rows[0].html).not.toContain('reported by the paper');
    expect(html).toMatch(/tr\.paper td \{[^}]*font-style: italic/);
    expect(html).toMatch(/<p class="legend">Rows in italics, tagged/);
    // Without paper rows there is nothing to explain.
    const measured = input();
    measured.results.rows = measured.results.rows.filter((r) => r.source === 'measured');
    expect(renderStudyHtml(measured)).not.toContain('reported by the paper');
  });

  it('lists the runs with their status, epochs and training time, numbers aligned right', () => {
    const html = renderStudyHtml(input());
    expect(html).toContain('<tr><td>pgd-at · seed 0</td><td>failed</td><td class="num">1</td><td class="num">–</td></tr>');
    expect(html).toContain('<td class="num">12.5 min</td></tr>');
    expect(html).toContain('<td class="num">80.1</td>');
  });

  it('inlines the figures as SVG, with no script and nothing fetched from elsewhere', () => {
    const figures = studyFigures(twoRuns()).slice(0, 2).map((spec) => ({ spec, svg: renderFigureSvg(spec) }));
    const html = renderStudyHtml(input({ figures }));
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).not.toContain('<?xml');
    expect(html).toContain('<figure id="figure-overfitting"><h3>Per-exit robust accuracy over training</h3><svg ');
    expect(html).toContain(`<figcaption>${figures[1].spec.caption.replace(/'/g, '&#39;')}</figcaption>`);
    expect(html).not.toMatch(/<script|<link|\bsrc=|@import|url\((?!#)/i);
    // Two figures, several panels each: their clip paths keep distinct ids in one document.
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('leaves out the sections it has nothing for', () => {
    const html = renderStudyHtml(input({ results: { header: [], rows: [] }, runs: [], notes: [], figures: [] }));
    expect(html).not.toMatch(/<h2>/);
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
  });
});
