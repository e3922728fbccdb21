// Study figures drawn by chart.js in Node: a PNG of the page's size with the lines in it, an SVG
// with the panels as vector paths, and the files written whole under their final names.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { renderFigurePng, renderFigureSvg, writeFigureFiles } from '../../../src-main/report/render-figure';
import type { FigureSpec } from '../../../src-shared/study-figures';
import { studyFigures } from '../../../src-shared/study-figures';
import { twoRuns } from '../shared/study-fixtures';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const figure = (panels: number, color = '#e15759'): FigureSpec => ({
  id: 'test-figure',
  title: 'A <test> figure',
  caption: '',
  panels: Array.from({ length: panels }, (_, i) => ({
    title: `panel ${i}`, xLabel: 'epoch', yLabel: 'accuracy', percent: true, kind: 'line' as const,
    series: [{ label: 'exit 1', color, points: [{ x: 1, y: 0.2 }, { x: 2, y: 0.5 }, { x: 3, y: 0.4 }] }],
  })),
});

/** How many pixels of the PNG are (close to) the given colour. */
async function pixelsOf(png: Buffer, hex: string): Promise<number> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const data = ctx.getImageData(0, 0, image.width, image.height).data;
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 30) n++;
  return n;
}

describe('figure rendering', () => {
  it('tiles the panels up to three a row into one PNG, with the series drawn in its colour', async () => {
    expect(pngSize(renderFigurePng(figure(1)))).toEqual({ width: 480, height: 340 });
    expect(pngSize(renderFigurePng(figure(3)))).toEqual({ width: 1440, height: 340 });
    const five = renderFigurePng(figure(5));
    expect(pngSize(five)).toEqual({ width: 1440, height: 680 });
    // Each panel's line, ~2 px wide across most of the plot: thousands of pixels of its colour, and none in a blank page.
    expect(await pixelsOf(five, '#e15759')).toBeGreaterThan(5 * 500);
    expect(await pixelsOf(renderFigurePng({ ...figure(1), panels: [{ ...figure(1).panels[0], series: [] }] }), '#e15759')).toBe(0);
  });

  it('writes an SVG page whose panels are vector paths in the series colour, with ids unique per figure and panel', () => {
    const svg = renderFigureSvg(figure(2, '#59a14f'));
    expect(svg).toMatch(/^<\?xml[^>]*\?>\n<svg [^>]*width="960" height="340" viewBox="0 0 960 340"/);
    expect(svg).toContain('<title>A &lt;test&gt; figure</title>');
    expect(svg).not.toContain('<image');
    expect(svg.match(/<path [^>]*stroke="#59A14F"/gi)?.length).toBeGreaterThanOrEqual(4); // line + legend, per panel
    expect(svg).toContain('>panel 1</text>');
    const ids = [...svg.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^test-figure-[01]-/);
    for (const [, ref] of svg.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(ref);
    // Glyph positions come from Liberation Sans; a viewer without it falls back to a face of its widths.
    expect(svg).toMatch(/font-family="[^"]+, Arial, Helvetica, sans-serif"/);
  });

  it('writes <id>.png and <id>.svg for every figure, leaving no temporary behind', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exitlab-figures-'));
    const specs = studyFigures(twoRuns());
    const written = writeFigureFiles(path.join(dir, 'figures'), specs);
    expect(fs.readdirSync(path.join(dir, 'figures')).sort()).toEqual(specs.flatMap((s) => [`${s.id}.png`, `${s.id}.svg`]).sort());
    for (const f of written) {
      expect(pngSize(fs.readFileSync(f.pngPath)).width).toBeGreaterThan(0);
      expect(fs.readFileSync(f.svgPath, 'utf8')).toBe(f.svg);
    }
    expect(written.map((f) => f.spec.id)).toEqual(specs.map((s) => s.id));
  });
});
