import type { EventBus } from '../../infra/events/event-bus.js';

export const TOKEN_EVENTS_CHANNEL = 'tokens';

export type TokenEvent =
  | { type: 'leased'; tokenId: string; userId: string; leasedAt: string; expiresAt: string }
  | { type: 'released'; tokenId: string; userId: string; endedAt: string }
  | { type: 'expired'; tokenId: string; userId: string; endedAt: string }
  | { type: 'evicted'; tokenId: string; userId: string; byUserId: string }
  | { type: 'cleared'; released: number; tokenIds: string[] };

/** Every event the pool's stream sends, for a client that listens by name (the dashboard). */
export const TOKEN_EVENT_TYPES: TokenEvent['type'][] = ['leased', 'released', 'expired', 'evicted', 'cleared'];

/** Sent after the change committed; a lost event costs a live view a refresh, never correctness. */
export async function publishTokenEvents(bus: EventBus, events: TokenEvent[]): Promise<void> {
  await Promise.all(events.map((event) => bus.publish(TOKEN_EVENTS_CHANNEL, event)));
}
