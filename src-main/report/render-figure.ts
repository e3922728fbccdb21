// A study figure as PNG and SVG files: chart.js draws each panel in Node on @napi-rs/canvas (Skia),
// one chart per panel, and the panels are tiled onto one page. Skia's SVG canvas records a canvas
// drawn onto it as a raster image, so the SVG page is composed from the panels' own SVG documents.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createCanvas, SvgExportFlag } from '@napi-rs/canvas';
import {
  Chart, Legend, LinearScale, LineController, LineElement, PointElement, Ticks, Title, type ChartConfiguration, type ChartItem, type Plugin, type Scale,
  type Tick,
} from 'chart.js';
import type { FigurePanel, FigureSeries, FigureSpec } from '../../src-shared/study-figures';
import { writeFileAtomically } from '../temp-files';
import { escapeXml } from './escape';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Title);

const PANEL_WIDTH = 480;
const PANEL_HEIGHT = 340;
const COLUMNS = 3;
const TEXT_COLOR = '#3b4252';
// Liberation Sans is Arial's metric twin and Skia finds it on Debian; Skia writes the face it used
// into the SVG, with every glyph's position, so a viewer without it should fall back to a face of
// the same widths rather than to its default serif.
const FONT_FAMILY = "'Liberation Sans', Arial, Helvetica, sans-serif";
const SVG_FONT_FALLBACK = 'Arial, Helvetica, sans-serif';
// Skia writes a circle as some 30 curve segments (~2 kB of SVG): markers only where a line has few
// enough points for them to matter.
const MAX_MARKED_POINTS = 20;

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumSignificantDigits: 3 });

export interface RenderedFigure {
  spec: FigureSpec;
  svg: string;
  pngPath: string;
  svgPath: string;
}

export function renderFigurePng(spec: FigureSpec): Buffer {
  const { columns, width, height } = layout(spec);
  const page = createCanvas(width, height);
  const ctx = page.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  spec.panels.forEach((panel, i) => {
    const canvas = createCanvas(PANEL_WIDTH, PANEL_HEIGHT);
    // chart.destroy() clears its canvas: the panel is copied onto the page before that.
    withChart(canvas, panel, () => ctx.drawImage(canvas, (i % columns) * PANEL_WIDTH, Math.floor(i / columns) * PANEL_HEIGHT));
  });
  return page.toBuffer('image/png');
}

export function renderFigureSvg(spec: FigureSpec): string {
  const { columns, width, height } = layout(spec);
  const tiles = spec.panels.map((panel, i) => {
    const canvas = createCanvas(PANEL_WIDTH, PANEL_HEIGHT, SvgExportFlag.NoPrettyXML);
    const svg = withChart(canvas, panel, () => canvas.getContent().toString('utf8'));
    const x = (i % columns) * PANEL_WIDTH;
    const y = Math.floor(i / columns) * PANEL_HEIGHT;
    return `<g transform="translate(${x} ${y})">${panelBody(svg, `${spec.id}-${i}-`)}</g>`;
  });
  return (
    '<?xml version="1.0" encoding="utf-8"?>\n' +
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">` +
    `<title>${escapeXml(spec.title)}</title><rect width="${width}" height="${height}" fill="#ffffff"/>${tiles.join('')}</svg>\n`
  );
}

/** Writes `<id>.png` and `<id>.svg` for each figure into `dir`, each through a temporary and a rename. */
export function writeFigureFiles(dir: string, specs: FigureSpec[]): RenderedFigure[] {
  fs.mkdirSync(dir, { recursive: true });
  return specs.map((spec) => {
    const svg = renderFigureSvg(spec);
    const pngPath = path.join(dir, `${spec.id}.png`);
    const svgPath = path.join(dir, `${spec.id}.svg`);
    writeFileAtomically(pngPath, renderFigurePng(spec), 'the figure');
    writeFileAtomically(svgPath, svg, 'the figure');
    return { spec, svg, pngPath, svgPath };
  });
}


function layout(spec: FigureSpec): { columns: number; width: number; height: number } {
  const columns = Math.max(1, Math.min(COLUMNS, spec.panels.length));
  const rows = Math.max(1, Math.ceil(spec.panels.length / columns));
  return { columns, width: columns * PANEL_WIDTH, height: rows * PANEL_HEIGHT };
}

/** Draws one panel on `canvas`, runs `use` while the drawing is there, and destroys the chart. */
function withChart<T>(canvas: { getContext(kind: '2d'): unknown }, panel: FigurePanel, use: () => T): T {
  // chart.js's types name the DOM's canvas; in Node it takes any 2D context (its basic platform).
  const chart = new Chart(canvas.getContext('2d') as ChartItem, chartConfig(panel));
  try {
    return use();
  } finally {
    chart.destroy();
  }
}

/**
 * The inside of a panel's SVG document, its ids prefixed so that they stay unique on the page and
 * in a report inlining figures that other processes drew (Skia's ids are short counters, cl_3).
 */
function panelBody(svg: string, prefix: string): string {
  const body = /<svg\b[^>]*>([\s\S]*)<\/svg>\s*$/.exec(svg)?.[1];
  if (body === undefined) throw new Error('the SVG canvas returned no <svg> document');
  return body
    .replace(/\bid="([^"]+)"/g, `id="${prefix}$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}$1"`)
    .replace(/font-family="([^"]+)"/g, `font-family="$1, ${SVG_FONT_FALLBACK}"`)
    // Skia writes coordinates to 8 digits; a hundredth of a pixel is finer than any screen or
    // print, and the file a quarter smaller.
    .replace(/\b(d|x|y|transform)="([^"]*)"/g, (_, name: string, value: string) => `${name}="${value.replace(/-?\d*\.\d+(?:e[-+]?\d+)?/gi, roundNumber)}"`);
}

const roundNumber = (n: string): string => String(Math.round(Number(n) * 100) / 100);

function chartConfig(panel: FigurePanel): ChartConfiguration<'line'> {
  const scatter = panel.kind === 'scatter';
  // Without parsing, chart.js takes the data as sorted by x and reads the x range off its ends.
  const series = panel.series.map((s) => ({ ...s, points: [...s.points].sort((p, q) => p.x - q.x) }));
  const wholeX = series.every((s) => s.points.every((p) => Number.isInteger(p.x)));
  const scale = (v: number) => (panel.percent ? v * 100 : v);
  const font = (size: number, weight?: 'bold') => ({ family: FONT_FAMILY, size, weight });
  const axisTitle = (text: string) => ({ display: text !== '', text, color: TEXT_COLOR, font: font(12) });
  const ticks = { color: TEXT_COLOR, font: font(11) };
  return {
    type: 'line',
    data: {
      datasets: series.map((s) => ({
        label: s.label,
        data: s.points.map((p) => ({ x: p.x, y: scale(p.y) })),
        borderColor: s.color,
        backgroundColor: s.color,
        borderWidth: 2,
        showLine: !scatter,
        pointRadius: scatter ? 4 : s.points.length <= MAX_MARKED_POINTS ? 2.5 : 0,
        tension: 0,
      })),
    },
    options: {
      animation: false,
      responsive: false,
      devicePixelRatio: 1,
      parsing: false,
      layout: { padding: { top: 4, right: 14, bottom: 4, left: 6 } },
      plugins: {
        title: { display: true, text: panel.title, align: 'start', color: TEXT_COLOR, font: font(14, 'bold'), padding: { top: 6, bottom: 6 } },
        legend: { position: 'bottom', labels: { color: TEXT_COLOR, font: font(11), boxWidth: 14, boxHeight: scatter ? 8 : 2, usePointStyle: scatter } },
      },
      scales: {
        x: {
          type: 'linear',
          title: axisTitle(panel.xLabel),
          // Epochs are whole: no tick at 1.5 on a run of 3 epochs.
          ticks: { ...ticks, callback: numberTick(false), ...(wholeX ? { precision: 0 } : {}) },
          grid: { color: '#e5e9f0' },
        },
        y: {
          type: 'linear',
          // Runs' panels sit side by side: a shared 0–100% range makes their accuracies comparable at a glance.
          ...(panel.percent ? { min: 0, max: 100 } : { beginAtZero: true }),
          title: axisTitle(panel.yLabel),
          ticks: { ...ticks, callback: numberTick(panel.percent) },
          grid: { color: '#e5e9f0' },
        },
      },
    },
    plugins: [pointLabels(series)],
  };
}

/** Percentages with a %, large counts (MACs) compactly ("75.4M"), the rest as chart.js writes them. */
function numberTick(percent: boolean) {
  return function (this: Scale, value: string | number, index: number, ticks: Tick[]): string {
    const v = Number(value);
    if (percent) return `${v}%`;
    if (Math.abs(v) >= 1e4) return compact.format(v);
    return Ticks.formatters.numeric.call(this, v, index, ticks);
  };
}

/** Writes each labelled point's label beside it, skipping one that would overlap a label already written. */
function pointLabels(series: FigureSeries[]): Plugin<'line'> {
  return {
    id: 'pointLabels',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea } = chart;
      const placed: { left: number; right: number; top: number; bottom: number }[] = [];
      ctx.save();
      ctx.font = `11px ${FONT_FAMILY}`;
      ctx.fillStyle = TEXT_COLOR;
      ctx.textBaseline = 'middle';
      series.forEach((s, d) => {
        const elements = chart.getDatasetMeta(d).data;
        s.points.forEach((point, j) => {
          const element = elements[j];
          if (point.label === undefined || !element) return;
          const width = ctx.measureText(point.label).width;
          const left = element.x + 7 + width <= chartArea.right ? element.x + 7 : element.x - 7 - width;
          const box = { left, right: left + width, top: element.y - 7, bottom: element.y + 7 };
          if (placed.some((b) => b.left < box.right && box.left < b.right && b.top < box.bottom && box.top < b.bottom)) return;
          placed.push(box);
          ctx.fillText(point.label, box.left, element.y);
        });
      });
      ctx.restore();
    },
  };
}
