// Runs trained in this session, kept current from the main process's events. Engine events come
// several times a second; the list is re-read at most every REFRESH_MS rather than rebuilt here.
import type { LiveRun } from '../../../src-shared/api';
import { api } from './api';

const REFRESH_MS = 400;

class LiveRunsStore {
  runs = $state<LiveRun[]>([]);
  loaded = $state(false);
  private timer: ReturnType<typeof setTimeout> | null = null;
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    const later = () => this.schedule();
    api().on('run.event', later);
    api().on('run.status', later);
    void this.refresh();
  }

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, REFRESH_MS);
  }

  async refresh(): Promise<void> {
    try {
      this.runs = await api().invoke('runs.live', {});
      this.loaded = true;
    } catch {
      // The connection is down; the banner says so and the next event refreshes again.
    }
  }

  get(runId: string | null): LiveRun | undefined {
    return runId ? this.runs.find((r) => r.runId === runId) : undefined;
  }
}

export const liveRuns = new LiveRunsStore();
