import { isEmail } from '../users/email-address.js';

export type Field = 'name' | 'email' | 'birthDate';

const HEADER_NAMES: Record<string, Field> = {
  name: 'name',
  nome: 'name',
  email: 'email',
  birthdate: 'birthDate',
  datadenascimento: 'birthDate',
};

/** `Data de Nascimento`, `birth_date` and `E-mail` become `datadenascimento`, `birthdate`, `email`. */
export function normalizeHeader(header: string): string {
  return header
    .trim()
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .replace(/[\s_-]+/g, '');
}

export type ColumnMap = Partial<Record<Field, number>>;

/** Where each field is, or the reason the file cannot be imported. */
export function mapColumns(headers: string[]): { columns: ColumnMap } | { error: string } {
  const columns: ColumnMap = {};
  headers.forEach((header, index) => {
    const field = HEADER_NAMES[normalizeHeader(header)];
    if (field && columns[field] === undefined) columns[field] = index;
  });
  const missing = (['name', 'email'] as const).filter((field) => columns[field] === undefined);
  if (missing.length > 0) {
    const names = missing.map((field) => (field === 'name' ? 'name (or nome)' : 'email (or e-mail)'));
    return { error: `The file has no ${names.join(' and no ')} column; its header is: ${headers.join(', ')}` };
  }
  return { columns };
}

export interface ImportRow {
  name: string;
  email: string;
  birthDate: string | null;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DMY_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** `YYYY-MM-DD` or `DD/MM/YYYY`, a date that exists and is not in the future. */
function parseBirthDate(value: string, today: string): string | { error: string } {
  const iso = ISO_DATE.exec(value);
  const dmy = iso ? null : DMY_DATE.exec(value);
  const parts = iso ? [iso[1], iso[2], iso[3]] : dmy ? [dmy[3], dmy[2], dmy[1]] : undefined;
  if (!parts) return { error: `birth date "${value}" is not YYYY-MM-DD or DD/MM/YYYY` };
  const [year, month, day] = parts.map(Number) as [number, number, number];
  // Years below 100 too: JavaScript's Date would have read them as 19xx, and they never were dates here.
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { error: `birth date "${value}" does not exist` };
  }
  const normalized = `${parts[0]}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  if (normalized > today) return { error: `birth date "${value}" is in the future` };
  if (year < 1900) return { error: `birth date "${value}" is before 1900` };
  return normalized;
}

// Control characters other than a tab or a line break (a quoted cell may wrap, and keeps it): NUL
// above all, which PostgreSQL refuses in text and which would fail the whole batch.
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a) || code === 0x7f) return true;
  }
  return false;
}

/** A valid row, normalized, or the reasons it is not. */
export function validateRow(values: string[], columns: ColumnMap, today: string): ImportRow | { error: string } {
  const get = (field: Field) => {
    const index = columns[field];
    return index === undefined ? '' : (values[index] ?? '').trim();
  };
  const problems: string[] = [];
  const name = get('name');
  if (name.length === 0) problems.push('name is empty');
  else if (hasControlCharacter(name)) problems.push('name has control characters');
  else if (name.length > 255) problems.push('name is longer than 255 characters');
  const email = get('email').toLowerCase();
  if (!isEmail(email)) problems.push(email ? `e-mail "${email}" is not valid` : 'e-mail is empty');
  const rawDate = get('birthDate');
  const birthDate = rawDate ? parseBirthDate(rawDate, today) : null;
  if (birthDate && typeof birthDate === 'object') problems.push(birthDate.error);
  if (problems.length > 0) return { error: problems.join('; ') };
  return { name, email, birthDate: birthDate as string | null };
}
