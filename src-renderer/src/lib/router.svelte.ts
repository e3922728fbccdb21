// Hash routes (#/runs?run=…): a reload keeps the view, and links between views are plain hrefs.
export const VIEWS = [
  { id: 'datasets', label: 'Data sets' },
  { id: 'new-run', label: 'New run' },
  { id: 'live', label: 'Live run' },
  { id: 'runs', label: 'Runs' },
  { id: 'robustness', label: 'Robustness' },
  { id: 'studies', label: 'Studies' },
  { id: 'export', label: 'Export' },
] as const;
export type ViewId = (typeof VIEWS)[number]['id'];

function parse(hash: string): { view: ViewId; params: URLSearchParams } {
  const [path, query] = hash.replace(/^#\/?/, '').split('?');
  const view = (VIEWS.find((v) => v.id === path)?.id ?? 'datasets') as ViewId;
  return { view, params: new URLSearchParams(query ?? '') };
}

class Router {
  view = $state<ViewId>('datasets');
  params = $state(new URLSearchParams());

  constructor() {
    if (typeof window === 'undefined') return;
    this.sync();
    window.addEventListener('hashchange', () => this.sync());
  }

  private sync(): void {
    const r = parse(location.hash);
    this.view = r.view;
    this.params = r.params;
  }

  go(view: ViewId, params: Record<string, string> = {}): void {
    const query = new URLSearchParams(params).toString();
    location.hash = `#/${view}${query ? `?${query}` : ''}`;
    this.sync();
  }
}

export const router = new Router();
export const href = (view: ViewId, params: Record<string, string> = {}) => {
  const query = new URLSearchParams(params).toString();
  return `#/${view}${query ? `?${query}` : ''}`;
};
