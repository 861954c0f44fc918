// Every cell quoted, so a reader splitting on `,` keeps the cell whole; and every piece of it that
// a spreadsheet could see as a cell of its own (after a `,` or `;`, the separators of different
// locales, or a line break) defused with a leading apostrophe when it would start a formula. Spaces
// and quotes before the sign do not hide it.
const FORMULA_PIECE = /(^|[,;\n])(?=[ "]*[=+\-@\t\r])/g;

/**
 * One cell of a CSV this service writes from what clients sent (the rows of an upload): quoted, and
 * never run as a formula by a spreadsheet in any locale.
 */
export function csvCell(value: string | number): string {
  const defused = String(value).replace(FORMULA_PIECE, "$1'");
  return `"${defused.replaceAll('"', '""')}"`;
}
