// A one-line progress bar for terminals; silent when the stream is not a terminal except for a
// line per finished epoch, so logs stay readable.
import { SOFTWARE_ADAPTER_WARNING, describeAdapter, type EngineEvent } from '../../src-shared/engine-messages';

export class ProgressBar {
  private drawn = false;
  private epochStart = Date.now();

  /**
   * `prefix` starts every line; `bar: false` prints the lines only, for runs that share a terminal
   * (a study's lanes), whose bars would overwrite each other.
   */
  constructor(private readonly out: NodeJS.WriteStream, private readonly options: { prefix?: string; bar?: boolean } = {}) {}

  private draw(line: string): void {
    if (!this.out.isTTY || this.options.bar === false) return;
    const width = this.out.columns ?? 100;
    this.out.write(`\r${line.slice(0, width - 1).padEnd(width - 1)}`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.out.write('\r' + ' '.repeat((this.out.columns ?? 100) - 1) + '\r');
    this.drawn = false;
  }

  private println(line: string): void {
    this.clear();
    this.out.write(`${this.options.prefix ?? ''}${line}\n`);
  }

  onEvent(event: EngineEvent): void {
    switch (event.type) {
      case 'started':
        this.epochStart = Date.now();
        this.println(`backend: ${event.backend.backend}` +
          `${event.backend.skipped.length ? ` (skipped: ${event.backend.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})` : ''}`);
        if (event.backend.adapter) this.println(`adapter: ${describeAdapter(event.backend.adapter)}`);
        if (event.backend.adapter?.software) this.println(SOFTWARE_ADAPTER_WARNING);
        this.println(`model: ${event.model.exits} exit(s), ${(event.model.parameters / 1e6).toFixed(2)} M parameters, ` +
          `${(event.model.macs / 1e6).toFixed(1)} M MACs per image`);
        break;
      case 'progress': {
        if (event.phase === 'eval') return this.draw(`epoch ${event.epoch}/${event.epochs}  evaluating clean / FGSM / PGD-10 on held-out images…`);
        const frac = event.batch / event.batches;
        const filled = Math.round(frac * 30);
        const elapsed = (Date.now() - this.epochStart) / 1000;
        const eta = frac > 0 ? elapsed / frac - elapsed : 0;
        this.draw(`epoch ${event.epoch}/${event.epochs} [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${event.batch}/${event.batches}  loss ` +
          `${event.loss.toFixed(3)}  ${event.imagesPerSecond.toFixed(1)} img/s  ETA ${Math.ceil(eta)} s`);
        break;
      }
      case 'epoch': {
        const m = event.metrics;
        const acc = (k: 'valCleanAcc' | 'valPgdAcc') => m.exits.map((e) => (100 * e[k]).toFixed(0)).join('/');
        this.println(`epoch ${m.epoch}: clean ${acc('valCleanAcc')}%  PGD-10 ${acc('valPgdAcc')}% (per exit)  ` +
          `${m.imagesPerSecond.toFixed(1)} img/s${m.catastrophicOverfitting.detected ? '  ⚠ catastrophic overfitting' : ''}`);
        this.epochStart = Date.now();
        break;
      }
      case 'log':
        this.println(`${event.level}: ${event.message}`);
        break;
      case 'paused':
        this.println('paused');
        break;
      default:
    }
  }
}
