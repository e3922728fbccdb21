// Pause / resume / stop requests from the owner of the run, checked by the trainer between batches.
import type { EngineEvent } from '../../../src-shared/engine-messages';

export class RunControl {
  stopRequested = false;
  private paused = false;
  private wake: (() => void) | null = null;

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  stop(): void {
    this.stopRequested = true;
    this.wake?.();
  }

  /** Blocks while paused; a stop request also ends the wait. */
  async waitWhilePaused(emit: (e: EngineEvent) => void): Promise<void> {
    if (!this.paused || this.stopRequested) return;
    emit({ type: 'paused' });
    while (this.paused && !this.stopRequested) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = null;
    if (!this.stopRequested) emit({ type: 'resumed' });
  }
}
