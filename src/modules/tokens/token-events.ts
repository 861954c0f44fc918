import type { EventBus } from '../../infra/events/event-bus.js';
import type { TokenEvent } from './tokens.schemas.js';

export type { TokenEvent };

export const TOKEN_EVENTS_CHANNEL = 'tokens';

/** Every event the pool's stream sends, for a client that listens by name (the dashboard). */
export const TOKEN_EVENT_TYPES: TokenEvent['type'][] = [
  'leased',
  'released',
  'expired',
  'evicted',
  'cleared',
  'waiting',
];

/** Whether a holder following its own events hears this one: its leases and their ends, and clears. */
export function concernsHolder(event: TokenEvent, holderId: string): boolean {
  if (event.type === 'cleared') return true;
  if (event.type === 'waiting') return false;
  return event.userId === holderId || (event.type === 'evicted' && event.byUserId === holderId);
}

/** Sent after the change committed; a lost event costs a live view a refresh, never correctness. */
export async function publishTokenEvents(bus: EventBus, events: TokenEvent[]): Promise<void> {
  await Promise.all(events.map((event) => bus.publish(TOKEN_EVENTS_CHANNEL, event)));
}
