// Tiny DOM helpers: no framework, no build step, no inline HTML from data (text only).

/** Creates an element: h('button', { class: 'primary', onclick }, 'Run'). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Says something to screen-reader users. */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (region) region.textContent = text;
}

/** A date-time in the reader's locale, or a dash. */
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/**
 * A labelled input with its hint (`hintId`, which the input names in `aria-describedby`): the label,
 * the hint and the input, to spread among a form's children.
 */
export function field(input, label, hintId, hint) {
  return [h('label', { for: input.id }, label), h('p', { id: hintId, class: 'hint' }, hint), input];
}

/** The longest comment the API takes with a decision (approve, discard, undo). */
const MAX_COMMENT = 1000;

/** A decision's comment box (the comment is kept with the admin's name in the audit log). */
export function commentBox(id) {
  return h('textarea', { id, rows: '2', maxlength: MAX_COMMENT });
}

/** A panel section labelled by its heading: panel('run-h', 'Sync now', …children). */
export function panel(headingId, title, ...children) {
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': headingId },
    h('h2', { id: headingId }, title),
    ...children,
  );
}

/** One row of a {@link table}: a cell per value (text or element). */
export function tableRow(cells) {
  return h(
    'tr',
    {},
    cells.map((c) => h('td', {}, c)),
  );
}

/** A table from headers and rows (cells are text or nodes). */
export function table(caption, headers, rows) {
  return h(
    'table',
    {},
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h('tbody', {}, rows.map(tableRow)),
  );
}

/**
 * An error panel from an API error; a refused request (`details.issues`) lists what is wrong with
 * each field ("comment: Too big: …") instead of the generic "see details.issues".
 */
export function errorBox(err, title = 'Something went wrong') {
  const issues = Array.isArray(err?.details?.issues) ? err.details.issues : [];
  return h(
    'div',
    { class: 'error-box', role: 'alert' },
    h('strong', {}, title),
    issues.length
      ? h(
          'ul',
          {},
          issues.map((i) => h('li', {}, `${i.path ? `${i.path.replace(/^\//, '')}: ` : ''}${i.message}`)),
        )
      : h('p', {}, err?.message ?? String(err)),
    err?.adminAction ? h('p', {}, h('strong', {}, 'What to do: '), err.adminAction) : null,
    err?.code
      ? h('p', { class: 'hint' }, `Code ${err.code}${err.requestId ? ` · request ${err.requestId}` : ''}`)
      : null,
  );
}
