// `exitlab runs …` and `exitlab export` on runs trained on the synthetic set by the real engine:
// list / show / compare / tag, export to ONNX and tfjs, bundles to another data folder (and a
// corrupted bundle refused with nothing changed), resume of a stopped run, bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { TrainConfigSchema, type TrainConfigInput } from '../../src-shared/config';
import { RunComparisonSchema, RunDetailSchema, RunSummarySchema, ExportMetadataSchema } from '../../src-shared/runs';
import { runCli } from '../helpers/cli';
import { RunService } from '../../src-main/runs/service';

const TINY: TrainConfigInput = {
  dataset: 'synthetic',
  model: { blocks: 2, step: 1, base: 1, channels: 4, growthRate: 2, scales: 2, classifierChannels: 8 },
  batchSize: 16, trainSamples: 48, evalSamples: 16, epochs: 2, maxBatchesPerEpoch: 2, backend: 'wasm', seed: 5,
};
const temp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));
const home = temp('exitlab-cli-');
const ids: Record<'a' | 'b' | 'stopped', string> = { a: '', b: '', stopped: '' };

const cli = (...argv: string[]) => runCli(home, argv);
const json = (s: string) => JSON.parse(s.trim().split('\n').pop()!);

beforeAll(async () => {
  const service = new RunService({ home });
  const a = service.start(TrainConfigSchema.parse({ ...TINY, method: 'fgsm-me' }), { name: 'paper' });
  await a.done;
  const b = service.start(TrainConfigSchema.parse({ ...TINY, method: 'standard', eps: 0 }));
  await b.done;
  // A run stopped in its first epoch, for `runs resume`.
  const c = service.start(TrainConfigSchema.parse({ ...TINY, epochs: 1, maxBatchesPerEpoch: 3 }), {
    onEvent: (e) => e.type === 'progress' && e.phase === 'train' && e.batch >= 1 && c.send({ type: 'stop' }),
  });
  await c.done;
  Object.assign(ids, { a: a.runId, b: b.runId, stopped: c.runId });
  await service.close();
}, 400_000);

afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('exitlab runs / export', () => {
  it('lists and filters runs', async () => {
    const all = await cli('runs', 'list', '--json');
    expect(all.code).toBe(0);
    const runs = RunSummarySchema.array().parse(json(all.out));
    expect(runs.map((r) => r.id).sort()).toEqual([ids.a, ids.b, ids.stopped].sort());
    expect(runs.find((r) => r.id === ids.a)).toMatchObject({ status: 'completed', name: 'paper', epochsDone: 2 });
    expect(runs.find((r) => r.id === ids.stopped)?.status).toBe('stopped');
    expect(json((await cli('runs', 'list', '--method', 'standard', '--json')).out).map((r: { id: string }) => r.id)).toEqual([ids.b]);
    const text = await cli('runs', 'list');
    expect(text.out).toContain(ids.a);
    expect(text.out).toMatch(/completed/);
  });

  it('shows one run\'s history and compares two runs', async () => {
    const show = await cli('runs', 'show', ids.a, '--json');
    const detail = RunDetailSchema.parse(json(show.out));
    expect(detail.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect((await cli('runs', 'show', ids.a)).out).toMatch(/fgsm-me on synthetic/);

    const cmp = await cli('runs', 'compare', ids.a, ids.b, '--json');
    expect(cmp.code).toBe(0);
    const c = RunComparisonSchema.parse(json(cmp.out));
    expect(c.configDiff.map((d) => d.path)).toEqual(expect.arrayContaining(['eps', 'method']));
    expect(c.epochs).toEqual([1, 2]);
    expect(c.curves[0].exits[1].metrics.valCleanAcc.every((v) => typeof v === 'number')).toBe(true);
    expect(c.robustness.filter((r) => r.attack === 'pgd')).toHaveLength(2);
    expect(c.timing.every((t) => t.seconds > 0 && (t.imagesPerSecond ?? 0) > 0)).toBe(true);
    const text = await cli('runs', 'compare', ids.a, ids.b);
    expect(text.out).toMatch(/configuration differences:[\s\S]*method[\s\S]*robustness per exit/);
  });

  it('tags runs and filters on tags', async () => {
    expect((await cli('runs', 'tag', ids.a, 'baseline', 'keep')).code).toBe(0);
    expect(json((await cli('runs', 'tag', ids.a, '--remove', 'keep', '--json')).out)).toEqual({ runId: ids.a, tags: ['baseline'] });
    expect(json((await cli('runs', 'list', '--tag', 'baseline', '--json')).out).map((r: { id: string }) => r.id)).toEqual([ids.a]);
    expect((await cli('runs', 'note', ids.a, 'the paper\'s λ')).code).toBe(0);
  });

  it('exports a trained run to ONNX (runs in onnxruntime-node) and one exit to tfjs', async () => {
    const out = path.join(home, 'export-onnx');
    const res = await cli('export', '--run', ids.a, '--format', 'onnx', '--out', out, '--json');
    expect(res.code, res.err).toBe(0);
    const meta = ExportMetadataSchema.parse(JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8')));
    expect(meta.exits).toHaveLength(2);
    const session = await ort.InferenceSession.create(path.join(out, 'model.onnx'));
    const outputs = await session.run({ image: new ort.Tensor('float32', new Float32Array(2 * 32 * 32 * 3).fill(0.1), [2, 32, 32, 3]) });
    expect(Object.keys(outputs)).toEqual(['logits_exit1', 'logits_exit2']);
    expect((outputs.logits_exit2.data as Float32Array).every(Number.isFinite)).toBe(true);
    await session.release();

    const tfjs = await cli('export', '--run', ids.a, '--format', 'tfjs', '--exit', '1', '--out', path.join(home, 'export-tfjs'));
    expect(tfjs.code, tfjs.err).toBe(0);
    expect(tfjs.out).toMatch(/exit 1/);
    expect(fs.readdirSync(path.join(home, 'export-tfjs')).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
  });

  it('moves a run to another data folder with a bundle', async () => {
    const bundle = path.join(home, 'a.exitlab-run');
    expect((await cli('runs', 'export-bundle', ids.a, '--out', bundle)).code).toBe(0);
    const other = temp('exitlab-cli-other-');
    const imported = await cli('runs', 'import-bundle', bundle, '--home', other, '--json');
    expect(imported.code, imported.err).toBe(0);
    const here = RunDetailSchema.parse(json((await cli('runs', 'show', ids.a, '--json')).out));
    const there = RunDetailSchema.parse(json((await cli('runs', 'show', ids.a, '--json', '--home', other)).out));
    expect(there.epochs).toEqual(here.epochs);
    expect(there.config).toEqual(here.config);
    expect(there.summary).toMatchObject({ status: 'completed', tags: ['baseline'], name: 'paper' });
    expect(there.artefacts).toEqual([]);
    for (const f of ['last.ckpt', 'best.ckpt']) {
      expect(fs.readFileSync(path.join(other, 'runs', ids.a, f)).equals(fs.readFileSync(path.join(home, 'runs', ids.a, f)))).toBe(true);
    }
    // The other machine can export the run without the data set's images.
    expect((await cli('export', '--run', ids.a, '--format', 'onnx', '--out', path.join(other, 'm'), '--home', other)).code).toBe(0);
    // Importing twice is refused.
    const again = await cli('runs', 'import-bundle', bundle, '--home', other);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists/);
  });

  it('refuses a corrupted, truncated or foreign bundle with nothing changed', async () => {
    const bundle = path.join(home, 'b.exitlab-run');
    expect((await cli('runs', 'export-bundle', ids.b, '--out', bundle)).code).toBe(0);
    const raw = zlib.gunzipSync(fs.readFileSync(bundle));
    const flipped = Buffer.from(raw);
    flipped[flipped.length - 100] ^= 0xff;
    const cases: Record<string, Buffer> = {
      'flipped.bundle': zlib.gzipSync(flipped),
      'truncated.bundle': fs.readFileSync(bundle).subarray(0, 2000),
      'foreign.bundle': zlib.gzipSync(Buffer.from('hello')),
    };
    const target = temp('exitlab-cli-target-');
    for (const [name, bytes] of Object.entries(cases)) {
      const file = path.join(home, name);
      fs.writeFileSync(file, bytes);
      const res = await cli('runs', 'import-bundle', file, '--home', target);
      expect(res.code, name).toBe(1);
      expect(res.err, name).toMatch(/corrupted|truncated|not (a readable )?(an )?ExitLab run bundle/);
    }
    expect(json((await cli('runs', 'list', '--json', '--home', target)).out)).toEqual([]);
    // Only the (empty) database exists there: no run folder, no leftover temporary files.
    expect(fs.readdirSync(target).filter((n) => !n.startsWith('exitlab.db'))).toEqual([]);
  });

  it('resumes a stopped run to completion', { timeout: 300_000 }, async () => {
    const res = await cli('runs', 'resume', ids.stopped, '--json');
    expect(res.code, res.err).toBe(0);
    expect(json(res.out)).toMatchObject({ type: 'summary', runId: ids.stopped, status: 'completed' });
    const detail = RunDetailSchema.parse(json((await cli('runs', 'show', ids.stopped, '--json')).out));
    expect(detail.summary.status).toBe('completed');
    expect(detail.epochs.map((e) => e.epoch)).toEqual([1]);
  });

  it('gives one clear error line for bad input and changes nothing', async () => {
    const before = json((await cli('runs', 'list', '--json')).out);
    const cases: Array<[string[], number, RegExp]> = [
      [['runs', 'show', 'nope'], 1, /unknown run 'nope'/],
      [['runs', 'resume', ids.a], 1, /completed: there is nothing to resume/],
      [['runs', 'delete', 'nope'], 1, /unknown run 'nope'/],
      [['runs', 'compare', ids.a], 2, /at least two/],
      [['runs', 'list', '--status', 'bogus'], 2, /--status must be one of/],
      [['runs', 'frobnicate'], 2, /unknown subcommand/],
      [['runs', 'tag', ids.a, 'has space'], 2, /tag/],
      [['export', '--run', 'nope', '--format', 'onnx', '--out', path.join(home, 'x')], 1, /unknown run 'nope'/],
      [['export', '--run', ids.a, '--format', 'onnx', '--out', path.join(home, 'export-onnx')], 1, /already exists/],
      [['export', '--run', ids.a, '--format', 'keras', '--out', path.join(home, 'x')], 2, /--format must be one of tfjs, onnx/],
      [['export', '--run', ids.a, '--format', 'onnx', '--exit', '0', '--out', path.join(home, 'x')], 2, /--exit/],
      [['runs', 'export-bundle', ids.a, '--out', path.join(home, 'no-dir', 'f')], 1, /does not exist/],
      [['runs', 'import-bundle', path.join(home, 'missing.bundle')], 1, /no such file/],
    ];
    for (const [argv, code, message] of cases) {
      const res = await cli(...argv);
      expect(res.code, argv.join(' ')).toBe(code);
      expect(res.err.split('\n'), argv.join(' ')).toHaveLength(1);
      expect(res.err, argv.join(' ')).toMatch(message);
    }
    expect(fs.existsSync(path.join(home, 'x'))).toBe(false);
    expect(json((await cli('runs', 'list', '--json')).out)).toEqual(before);
  });

  it('deletes a run and its folder', async () => {
    expect((await cli('runs', 'delete', ids.b, '--json')).code).toBe(0);
    expect(fs.existsSync(path.join(home, 'runs', ids.b))).toBe(false);
    expect(json((await cli('runs', 'list', '--json')).out).map((r: { id: string }) => r.id)).not.toContain(ids.b);
  });
});
