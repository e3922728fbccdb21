// The events the api layer pushes to renderers. Payloads are checked against the contract before
// they leave, so a transport never forwards something the renderer cannot parse.
import { API_EVENTS, type ApiEvent, type ApiEventPayload } from '../../src-shared/api';
import { describeZodError } from '../../src-shared/config';

export type EventListener = (event: ApiEvent, payload: unknown) => void;

export class EventHub {
  private listeners = new Set<EventListener>();

  emit<E extends ApiEvent>(event: E, payload: ApiEventPayload<E>): void {
    const parsed = API_EVENTS[event].safeParse(payload);
    if (!parsed.success) {
      // A programming error in the main process: report it rather than send a malformed event.
      console.error(`exitlab: dropped an invalid '${event}' event: ${describeZodError(parsed.error)}`);
      return;
    }
    for (const listener of this.listeners) listener(event, parsed.data);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
