import { type LeaseRecord, type Micros, micros, type PoolHistory } from './pool-history.js';

/**
 * A history checker for the token pool, in the spirit of Jepsen's checkers at small scale: from the
 * lease intervals in the database and the answers the clients got, it rebuilds who held which token
 * at every instant and reports each rule of the spec's token-pool section that the history breaks,
 * with the few leases that show it.
 */

export interface LeaseAnswerBody {
  tokenId: string;
  userId: string;
  leasedAt: string;
  expiresAt: string;
  evictedUserId: string | null;
}

export type PoolAnswer =
  | { kind: 'lease'; userId: string; status: number; body: LeaseAnswerBody | undefined }
  | { kind: 'release'; tokenId: string; status: number; body: { userId: string; endedAt: string } | undefined }
  | { kind: 'clear'; status: number; released: number | undefined };

export interface Violation {
  rule: string;
  detail: string;
  /** The leases that show the violation: the smallest history that breaks the rule. */
  witnesses: LeaseRecord[];
}

export interface CheckScope {
  /** Each lease a client was answered with in this scope; empty for a history alone. */
  answers: PoolAnswer[];
  ttlMicros: Micros;
  /** Only leases made after this one, and ends after this instant, are this scope's to explain. */
  afterLeaseId?: number;
  afterInstant?: Micros;
  /**
   * Holders that asked with `onFull: "wait"`. A token free at an eviction was rightly passed over
   * if it was promised to a waiter: the next lease it went to is one of theirs.
   */
  waiters?: ReadonlySet<string>;
}

/** The end of a lease's hold: its recorded end, or its expiry if it is still open. */
const holdEnd = (lease: LeaseRecord): Micros => lease.endedAt ?? lease.expiresAt;

const byLeaseOrder = (a: LeaseRecord, b: LeaseRecord) => a.leasedAt - b.leasedAt || a.id - b.id;

function groupBy(leases: LeaseRecord[], key: (lease: LeaseRecord) => string): Map<string, LeaseRecord[]> {
  const groups = new Map<string, LeaseRecord[]>();
  for (const lease of leases) {
    const list = groups.get(key(lease)) ?? [];
    list.push(lease);
    groups.set(key(lease), list);
  }
  for (const list of groups.values()) list.sort(byLeaseOrder);
  return groups;
}

export function checkPoolHistory(history: PoolHistory, scope: CheckScope): Violation[] {
  const violations: Violation[] = [];
  const report = (rule: string, detail: string, ...witnesses: Array<LeaseRecord | undefined>) =>
    violations.push({ rule, detail, witnesses: witnesses.filter((w): w is LeaseRecord => w !== undefined) });
  const afterLeaseId = scope.afterLeaseId ?? 0;
  const afterInstant = scope.afterInstant ?? Number.NEGATIVE_INFINITY;
  const pool = new Set(history.tokenIds);
  const byToken = groupBy(history.leases, (lease) => lease.tokenId);
  const byHolder = groupBy(history.leases, (lease) => lease.userId);

  for (const lease of history.leases) checkShape(lease, pool, scope.ttlMicros, report);
  checkNoOverlap(byToken, 'one open lease per token', report);
  checkNoOverlap(byHolder, 'one open lease per holder', report);

  for (const evicted of history.leases) {
    if (evicted.endReason !== 'evicted' || (evicted.endedAt as Micros) <= afterInstant) continue;
    checkEviction(evicted, history.tokenIds, byToken, scope.waiters ?? new Set(), report);
  }
  checkAnswers(history, scope, afterLeaseId, afterInstant, byToken, report);
  return violations;
}

type Report = (rule: string, detail: string, ...witnesses: Array<LeaseRecord | undefined>) => void;

function checkShape(lease: LeaseRecord, pool: Set<string>, ttl: Micros, report: Report): void {
  if (!pool.has(lease.tokenId)) report('pool tokens only', `lease ${lease.id} is on a token outside the pool`, lease);
  if (lease.expiresAt - lease.leasedAt !== ttl) {
    report('lease length', `lease ${lease.id} lasts ${lease.expiresAt - lease.leasedAt} µs, not the TTL`, lease);
  }
  if ((lease.endedAt === null) !== (lease.endReason === null)) {
    report('end and reason together', `lease ${lease.id} has one of ended_at and end_reason`, lease);
  }
  if (lease.endedAt === null) return;
  if (lease.endedAt < lease.leasedAt || lease.endedAt > lease.expiresAt) {
    report('ends within its term', `lease ${lease.id} ended outside [leasedAt, expiresAt]`, lease);
  } else if ((lease.endReason === 'expired') !== (lease.endedAt === lease.expiresAt)) {
    // The database clock alone decides: a lease is over exactly at expiresAt, and only then.
    report('expiry at expiresAt', `lease ${lease.id} ended ${lease.endReason} at ${lease.endedAt}`, lease);
  }
}

function checkNoOverlap(groups: Map<string, LeaseRecord[]>, rule: string, report: Report): void {
  for (const list of groups.values()) {
    for (let i = 1; i < list.length; i += 1) {
      const before = list[i - 1] as LeaseRecord;
      const after = list[i] as LeaseRecord;
      if (after.leasedAt < holdEnd(before)) {
        report(rule, `lease ${after.id} began while lease ${before.id} still held`, before, after);
      } else if (before.endedAt === null) {
        report(rule, `lease ${after.id} began while lease ${before.id} was never closed`, before, after);
      }
    }
  }
}

/**
 * An eviction at instant t is right only if, just before it, every token was held by an unexpired
 * lease or promised to a waiter, and the evicted one was the oldest of the held (earliest leasedAt,
 * ties by token id).
 */
function checkEviction(
  evicted: LeaseRecord,
  tokenIds: string[],
  byToken: Map<string, LeaseRecord[]>,
  waiters: ReadonlySet<string>,
  report: Report,
): void {
  const t = evicted.endedAt as Micros;
  const evictors = (byToken.get(evicted.tokenId) ?? []).filter((l) => l.leasedAt === t && l.id !== evicted.id);
  const evictor = evictors[0];
  if (evictors.length !== 1) {
    report('an eviction hands the token over', `lease ${evicted.id} was evicted with no lease taking over`, evicted);
    return;
  }
  const stillHeld = (lease: LeaseRecord) => {
    if (holdEnd(lease) > t) return true;
    // An end at the very instant t (PGlite's clock ticks in milliseconds) came after this eviction
    // if it was another eviction made later; a release or clear at t cannot be ordered, so it
    // gets the benefit of the doubt. An expiry at t is an expiry: the token was free.
    if (holdEnd(lease) < t || lease.endReason === 'expired' || lease.endedAt === null) return false;
    if (lease.endReason !== 'evicted') return true;
    const next = (byToken.get(lease.tokenId) ?? []).find((l) => l.leasedAt === t && l.id !== lease.id);
    return next !== undefined && next.id > (evictor as LeaseRecord).id;
  };
  const holders: LeaseRecord[] = [];
  for (const tokenId of tokenIds) {
    const leases = byToken.get(tokenId) ?? [];
    const holder = leases.find(
      (l) => l === evicted || (l.leasedAt <= t && l.id < (evictor as LeaseRecord).id && stillHeld(l)),
    );
    if (!holder) {
      const next = leases.find((l) => l.leasedAt >= t && l !== evictor);
      if (next && waiters.has(next.userId)) continue;
      const last = leases.filter((l) => l.leasedAt <= t && l !== evictor).at(-1);
      report(
        'no eviction while a token is free',
        `lease ${evicted.id} was evicted at ${t} while token ${tokenId} was free`,
        evicted,
        evictor,
        last,
      );
      return;
    }
    holders.push(holder);
  }
  const oldest = holders.reduce((a, b) =>
    b.leasedAt < a.leasedAt || (b.leasedAt === a.leasedAt && b.tokenId < a.tokenId) ? b : a,
  );
  if (oldest !== evicted) {
    report(
      'the oldest lease is evicted',
      `lease ${evicted.id} was evicted at ${t} while lease ${oldest.id} was older`,
      evicted,
      evictor,
      oldest,
    );
  }
}

function checkAnswers(
  history: PoolHistory,
  scope: CheckScope,
  afterLeaseId: number,
  afterInstant: Micros,
  byToken: Map<string, LeaseRecord[]>,
  report: Report,
): void {
  const key = (tokenId: string, userId: string, leasedAt: Micros) => `${tokenId}|${userId}|${leasedAt}`;
  const byKey = new Map(history.leases.map((l) => [key(l.tokenId, l.userId, l.leasedAt), l]));
  const answered = new Set<LeaseRecord>();
  let created = 0;
  let releasedByClears = 0;

  for (const answer of scope.answers) {
    if (answer.kind === 'clear') {
      if (answer.status !== 200) report('a clear succeeds', `a clear answered ${answer.status}`);
      releasedByClears += answer.released ?? 0;
      continue;
    }
    if (answer.kind === 'release') {
      if (answer.status === 409) continue;
      const body = answer.body;
      const lease =
        answer.status === 200 && body
          ? (byToken.get(answer.tokenId) ?? []).find(
              (l) => l.userId === body.userId && l.endReason === 'released' && l.endedAt === micros(body.endedAt),
            )
          : undefined;
      if (!lease) report('a release answered is a release recorded', `release of ${answer.tokenId}: ${answer.status}`);
      continue;
    }
    const body = answer.body;
    if ((answer.status !== 200 && answer.status !== 201) || !body) {
      // A full pool evicts; no lease request fails because another one raced it.
      report('every lease request is served', `a lease for ${answer.userId} answered ${answer.status}`);
      continue;
    }
    const lease = byKey.get(key(body.tokenId, body.userId, micros(body.leasedAt)));
    if (!lease || lease.expiresAt !== micros(body.expiresAt)) {
      report('every lease answered is in the history', `${answer.status} ${JSON.stringify(body)} is not recorded`);
      continue;
    }
    if (answer.status === 200) continue;
    created += 1;
    if (answered.has(lease)) report('one answer per lease', `lease ${lease.id} was answered 201 twice`, lease);
    answered.add(lease);
    const evicted = (byToken.get(lease.tokenId) ?? []).find(
      (l) => l.endReason === 'evicted' && l.endedAt === lease.leasedAt,
    );
    if ((evicted?.userId ?? null) !== body.evictedUserId) {
      report(
        'evictedUserId names who lost the token',
        `lease ${lease.id} answered evictedUserId ${body.evictedUserId}`,
        lease,
        evicted,
      );
    }
  }

  if (scope.answers.some((a) => a.kind === 'lease')) {
    const made = history.leases.filter((l) => l.id > afterLeaseId);
    if (made.length !== created) {
      report('every lease made was answered', `${made.length} leases were made, ${created} answered 201`);
    }
  }
  const cleared = history.leases.filter((l) => l.endReason === 'cleared' && (l.endedAt as Micros) > afterInstant);
  if (cleared.length !== releasedByClears) {
    report('a clear counts what it ended', `${cleared.length} leases ended cleared, clears said ${releasedByClears}`);
  }
}

/** One line per violation, with its witnesses, for a failing test's message. */
export function describeViolations(violations: Violation[]): string {
  return violations
    .slice(0, 10)
    .map((v) => [`${v.rule}: ${v.detail}`, ...v.witnesses.map((w) => `    ${JSON.stringify(w)}`)].join('\n'))
    .join('\n');
}
