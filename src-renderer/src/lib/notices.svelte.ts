// Messages shown at the top of the window: errors from the main process in readable form, and
// short confirmations. Errors stay until dismissed; confirmations fade after a few seconds.
import { errorMessage } from './api';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  message: string;
}

class Notices {
  items = $state<Notice[]>([]);
  private next = 1;

  push(message: string, kind: Notice['kind'] = 'error'): void {
    const id = this.next++;
    this.items = [...this.items.filter((n) => n.message !== message), { id, kind, message }].slice(-5);
    if (kind === 'info') setTimeout(() => this.dismiss(id), 4000);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((n) => n.id !== id);
  }
}

export const notices = new Notices();

/** Runs an api call; a failure becomes an error notice and `undefined`. */
export async function attempt<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    notices.push(errorMessage(err));
    return undefined;
  }
}
