import type { Database, Statement } from '../../infra/db/database.js';
import type { Principal } from '../../infra/http/principal.js';

const ISSUE_STREAM_TICKET: Statement = {
  name: 'issue_stream_ticket',
  // Spent tickets are deleted when used; the ones nobody used go with the next issue.
  text: `with swept as (delete from stream_tickets where expires_at < now())
         insert into stream_tickets (ticket_hash, session_id, expires_at)
         values ($1, $2, now() + make_interval(secs => $3))`,
};

const CONSUME_STREAM_TICKET: Statement = {
  name: 'consume_stream_ticket',
  text: `delete from stream_tickets t
         using sessions s join users u on u.id = s.user_id
         where t.ticket_hash = $1 and t.expires_at > now() and s.id = t.session_id and s.revoked_at is null
         returning s.user_id as "userId", u.role, s.id as "sessionId"`,
};

export async function insertStreamTicket(
  database: Database,
  values: { ticketHash: string; sessionId: string; ttlSeconds: number },
): Promise<void> {
  await database.query(ISSUE_STREAM_TICKET, [values.ticketHash, values.sessionId, values.ttlSeconds]);
}

/**
 * Spends a ticket in one DELETE and answers who it was for, if it was unspent, unexpired and its
 * session still open: of two requests racing with one ticket, exactly one opens a stream.
 */
export async function consumeStreamTicket(database: Database, ticketHash: string): Promise<Principal | undefined> {
  const [row] = await database.query<Principal>(CONSUME_STREAM_TICKET, [ticketHash]);
  return row;
}
