/** The first block of a UUID: enough to tell tokens and users apart on screen. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const shortDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

export function formatDateTime(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

/** For table cells, where a narrow screen has little room. */
export function formatShortDateTime(iso: string): string {
  return shortDateTime.format(new Date(iso));
}

export function formatTime(iso: string): string {
  return time.format(new Date(iso));
}

/** `m:ss` left until an instant; never negative. */
export function countdown(untilIso: string, now: number): string {
  const seconds = Math.max(0, Math.ceil((Date.parse(untilIso) - now) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}
