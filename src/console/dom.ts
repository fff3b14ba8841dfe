/**
 * @module console/dom
 * The few DOM helpers of the console's views: building elements, finding them, and a form
 * field's message, shown next to the field (never an alert) and announced to assistive
 * technology through the field's `aria-invalid` and its `role="alert"` span.
 */

type Child = Node | string | undefined;

/** An element with attributes and children; `undefined` children are skipped. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== undefined) e.append(c);
  return e;
}

/** The element with this id; the page always has it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`the page has no #${id}`);
  return e as T;
}

/** A form field's value, trimmed. */
export function value(id: string): string {
  return byId<HTMLInputElement>(id).value.trim();
}

/** Shows `message` next to the field `id`, or clears it. */
export function fieldError(id: string, message: string | undefined): void {
  byId(`${id}-error`).textContent = message ?? '';
  const field = byId(id);
  if (message === undefined) field.removeAttribute('aria-invalid');
  else field.setAttribute('aria-invalid', 'true');
}

/** Clears the messages of every field of a form. */
export function clearErrors(form: HTMLFormElement): void {
  for (const f of Array.from(form.querySelectorAll('input, select'))) if (f.id) fieldError(f.id, undefined);
}

/** Replaces a table body's rows. */
export function setRows(tableId: string, rows: readonly HTMLTableRowElement[]): void {
  byId(tableId)
    .querySelector('tbody')!
    .replaceChildren(...rows);
}

/** Sets an element's text. */
export function setText(id: string, text: string): void {
  byId(id).textContent = text;
}
