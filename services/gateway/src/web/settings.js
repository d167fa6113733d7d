import { api } from './api.js';
import { setupChecklist, sourceFields, testResultView } from './data-source.js';
import { announce, errorBox, field, h, panel, replace, when } from './dom.js';

const MAX_EMAILS = 10;
const MIN_SCHEDULE = 60;
const MAX_SCHEDULE = 1440;
// The same check as the API's and the connector's (settings-rules.ts): a local part of 1–64
// characters, one @, a dotted host name.
const EMAIL =
  /^[^\s@,;<>"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** "yearGroup" → "year group". */
const typeLabel = (t) => t.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

/** The time zones this browser knows, with the stored one always among them. */
function timeZoneOptions(current) {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const all = [...new Set(['Europe/London', 'UTC', ...zones, current].filter(Boolean))].sort();
  return all.map((z) => h('option', { value: z }, z.replaceAll('_', ' ')));
}

/** The problems of the e-mail list as sentences (empty when it is fine). */
export function emailProblems(lines) {
  const problems = lines
    .map((line, i) => (EMAIL.test(line) ? null : `Line ${i + 1}: “${line}” is not an e-mail address.`))
    .filter(Boolean);
  if (lines.length > MAX_EMAILS)
    problems.push(`At most ${MAX_EMAILS} addresses can be notified (${lines.length} entered).`);
  return problems;
}

/**
 * Runs `save` (which saves and refreshes the form) with `button` disabled meanwhile, then says in
 * `result` "<done>." (screen readers hear it too), or why it failed under `failedTitle` — or as
 * `explain(err)` shows it, when that returns anything.
 */
async function saveWith(button, result, done, failedTitle, save, explain = () => null) {
  button.disabled = true;
  try {
    await save();
    replace(result, h('div', { class: 'success-box', role: 'status' }, `${done}.`));
    announce(done);
  } catch (err) {
    const explained = explain(err);
    replace(result, ...(explained ?? [errorBox(err, failedTitle)]));
  } finally {
    button.disabled = false;
  }
}

function scheduleSummary(s) {
  if (!s.configured) return 'Not set up yet.';
  if (!s.enabled) return 'Scheduled syncs are paused. Run still works from the dashboard.';
  return `Syncs run every ${s.scheduleMinutes} minutes; next run ${when(s.nextRunAt)}.`;
}

/** Whether `input` no longer shows `value` (a stored number, or absent). */
const edited = (input, value) => input.value.trim() !== String(value ?? '');

/** A number field's whole number, or null when empty. */
const int = (input) => (input.value.trim() === '' ? null : Number(input.value));

/**
 * The removal thresholds form: a default and an optional threshold per entity type. A save sends
 * only what its admin changed since the page showed it: the default when it was edited, and — as
 * the API replaces the whole per-type list — the edited rows laid over the list as stored at the
 * time of saving, so another admin's save since this page was opened is kept.
 */
function thresholdsPanel(initial) {
  let shown;
  const status = h('div', { 'aria-live': 'polite' });
  const num = (id) => h('input', { id, type: 'number', min: 0, step: 1, inputmode: 'numeric' });
  const defaultPercent = num('threshold-default-percent');
  const defaultMin = num('threshold-default-min');
  defaultPercent.max = '100';
  const ownOf = (thresholds) => new Map(thresholds.byType.map((t) => [t.entityType, t]));
  const rows = initial.entityTypes.map((type) => {
    const percent = num(`threshold-${type}-percent`);
    percent.max = '100';
    return { type, percent, min: num(`threshold-${type}-min`) };
  });
  /** The form shows `thresholds` (as loaded or saved); a save sends what differs from them. */
  const show = (thresholds) => {
    shown = thresholds;
    defaultPercent.value = thresholds.default.percent;
    defaultMin.value = thresholds.default.min;
    const saved = ownOf(thresholds);
    for (const r of rows) {
      r.percent.value = saved.get(r.type)?.percent ?? '';
      r.min.value = saved.get(r.type)?.min ?? '';
    }
  };
  const save = h('button', { class: 'primary', type: 'submit' }, 'Save thresholds');
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const before = ownOf(shown);
        const defaultEdited =
          edited(defaultPercent, shown.default.percent) || edited(defaultMin, shown.default.min);
        const editedRows = rows.filter(
          (r) => edited(r.percent, before.get(r.type)?.percent) || edited(r.min, before.get(r.type)?.min),
        );
        await saveWith(
          save,
          status,
          'Removal thresholds saved',
          'The thresholds were not saved',
          async () => {
            const body = {};
            if (defaultEdited)
              body.default = { percent: int(defaultPercent) ?? 0, min: int(defaultMin) ?? 0 };
            if (editedRows.length) {
              const current = await api.thresholds();
              const fallback = body.default ?? current.default;
              const byType = ownOf(current);
              for (const r of editedRows) {
                const p = int(r.percent);
                const m = int(r.min);
                if (p === null && m === null) byType.delete(r.type);
                else
                  byType.set(r.type, {
                    entityType: r.type,
                    percent: p ?? fallback.percent,
                    min: m ?? fallback.min,
                  });
              }
              body.byType = [...byType.values()];
            }
            show(await api.saveThresholds(body));
          },
        );
      },
    },
    h(
      'p',
      { id: 'thresholds-hint', class: 'hint' },
      'A run holds its removals of a type for your review when they exceed BOTH the percentage of that type’s records AND the number. Leave a type empty to use the default.',
    ),
    h('label', { for: 'threshold-default-percent' }, 'Default: more than (%)'),
    defaultPercent,
    h('label', { for: 'threshold-default-min' }, 'Default: and more than (records)'),
    defaultMin,
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, 'Thresholds per entity type'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Entity type'),
          h('th', { scope: 'col' }, 'More than (%)'),
          h('th', { scope: 'col' }, 'And more than (records)'),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, typeLabel(r.type)),
            h(
              'td',
              {},
              h(
                'label',
                { for: r.percent.id, class: 'visually-hidden' },
                `${typeLabel(r.type)}: more than (%)`,
              ),
              r.percent,
            ),
            h(
              'td',
              {},
              h(
                'label',
                { for: r.min.id, class: 'visually-hidden' },
                `${typeLabel(r.type)}: and more than (records)`,
              ),
              r.min,
            ),
          ),
        ),
      ),
    ),
    h('div', { class: 'actions' }, save),
    status,
  );
  show(initial);
  return panel('thresholds-h', 'Removal thresholds', form);
}

/**
 * What a save sends: the fields changed since the form showed `shown` (and a typed key), so it
 * changes only what the admin changed (the API keeps every field left out); the first save sends
 * everything. With them the `version` the form showed: if another admin (or another tab) saved
 * since, the API refuses the save (409 CONNECTOR_SETTINGS_CHANGED) rather than laying this page's
 * changes over settings it never showed.
 */
function changedSettings(shown, values) {
  const changed = !shown.configured
    ? values
    : Object.fromEntries(
        Object.entries(values).filter(
          ([name, value]) => name === 'apiKey' || JSON.stringify(value) !== JSON.stringify(shown[name]),
        ),
      );
  return { ...changed, version: shown.version ?? 0 };
}

/** Settings › Data Input Source: connection, schedule and pause, time zone, contacts, thresholds. */
export async function renderSettings(root) {
  const [settings, egress, thresholds] = await Promise.all([
    api.settings(),
    api.egress().catch(() => null),
    api.thresholds().catch((err) => err),
  ]);
  const fields = sourceFields(settings);
  const testResult = h('section', { 'aria-live': 'polite' });
  const saveResult = h('div', { 'aria-live': 'polite' });
  const summary = h('p', { id: 'schedule-summary' });

  const schedule = h('input', {
    id: 'schedule-minutes',
    type: 'number',
    min: MIN_SCHEDULE,
    max: MAX_SCHEDULE,
    step: 1,
    inputmode: 'numeric',
    required: true,
    'aria-describedby': 'schedule-hint',
  });
  const paused = h('input', { id: 'paused', type: 'checkbox', 'aria-describedby': 'paused-hint' });
  const timeZone = h('select', { id: 'time-zone', 'aria-describedby': 'time-zone-hint' });
  const emails = h('textarea', {
    id: 'notification-emails',
    rows: 4,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'emails-hint emails-error',
  });
  let shown;
  /** The form shows `s` (as loaded or saved); a save sends only what differs from it. */
  const show = (s) => {
    shown = s;
    fields.url.value = s.isamsUrl ?? '';
    fields.format.value = s.format ?? 'xml';
    fields.key.value = '';
    fields.showKey(s.keyLast4);
    summary.textContent = scheduleSummary(s);
    schedule.value = s.configured ? s.scheduleMinutes : 60;
    paused.checked = s.configured && !s.enabled;
    replace(timeZone, timeZoneOptions(s.timeZone));
    timeZone.value = s.timeZone ?? 'Europe/London';
    emails.value = (s.notificationEmails ?? []).join('\n');
  };
  show(settings);
  const emailError = h('div', { id: 'emails-error' });

  const testButton = h('button', { type: 'button' }, 'Test connection');
  testButton.addEventListener('click', async () => {
    testButton.disabled = true;
    replace(
      testResult,
      h('p', {}, 'Testing the connection to iSAMS… this can take a minute for a large school.'),
    );
    try {
      const r = await api.testConnection(fields.values());
      replace(testResult, ...testResultView(r));
      announce(r.ok ? 'Connection works' : 'Connection needs attention');
    } catch (err) {
      replace(testResult, errorBox(err, 'The test could not run'));
    } finally {
      testButton.disabled = false;
    }
  });

  const saveButton = h('button', { class: 'primary', type: 'submit' }, 'Save settings');
  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        replace(saveResult);
        const lines = emails.value
          .split(/[\n,;]+/)
          .map((l) => l.trim())
          .filter(Boolean);
        const problems = emailProblems(lines);
        replace(emailError);
        emails.removeAttribute('aria-invalid');
        if (problems.length) {
          emails.setAttribute('aria-invalid', 'true');
          replace(
            emailError,
            h(
              'div',
              { class: 'error-box', role: 'alert' },
              h('strong', {}, 'Check the e-mail addresses:'),
              h(
                'ul',
                {},
                problems.map((p) => h('li', {}, p)),
              ),
              h('p', {}, 'Use one address per line, e.g. office@yourschool.org.'),
            ),
          );
          emails.focus();
          return;
        }
        const minutes = Number(schedule.value);
        if (!Number.isInteger(minutes) || minutes < MIN_SCHEDULE || minutes > MAX_SCHEDULE) {
          replace(
            saveResult,
            h(
              'div',
              { class: 'error-box', role: 'alert' },
              `The schedule must be a whole number of minutes from ${MIN_SCHEDULE} to ${MAX_SCHEDULE}.`,
            ),
          );
          schedule.focus();
          return;
        }
        await saveWith(
          saveButton,
          saveResult,
          'Settings saved',
          'Settings were not saved',
          async () => {
            const values = {
              ...fields.values(),
              scheduleMinutes: minutes,
              enabled: !paused.checked,
              timeZone: timeZone.value,
              notificationEmails: lines,
            };
            show(await api.saveSettings(changedSettings(shown, values)));
          },
          (err) => {
            // The settings were saved (only bookings missed the zone): the form takes their new
            // version, so saving again goes through and passes the zone on.
            if (err?.code === 'GATEWAY_TIME_ZONE_NOT_APPLIED')
              void api.settings().then(show, () => undefined);
            return err?.code === 'CONNECTOR_SETTINGS_CHANGED'
              ? [
                  errorBox(
                    err,
                    'Someone else saved these settings after this page showed them: nothing was saved',
                  ),
                  h(
                    'p',
                    {},
                    'Show the saved settings, check what they changed, then make your change again.',
                  ),
                  h(
                    'button',
                    {
                      type: 'button',
                      id: 'reload-settings',
                      onclick: async () => {
                        show(await api.settings());
                        replace(
                          saveResult,
                          h(
                            'div',
                            { class: 'success-box', role: 'status' },
                            'These are the saved settings now. Make your change again and save.',
                          ),
                        );
                        announce('Saved settings shown');
                        fields.url.focus();
                      },
                    },
                    'Show the saved settings',
                  ),
                ]
              : null;
          },
        );
      },
    },
    panel(
      'connection-h',
      'iSAMS connection',
      ...fields.nodes,
      h('div', { class: 'actions' }, testButton),
      testResult,
    ),
    panel(
      'schedule-h',
      'Schedule',
      summary,
      ...field(
        schedule,
        'Sync every (minutes)',
        'schedule-hint',
        `From ${MIN_SCHEDULE} to ${MAX_SCHEDULE}. iSAMS refreshes the key’s data at most hourly, so 60 is the most useful.`,
      ),
      h('div', {}, h('label', { for: 'paused', class: 'inline' }, paused, 'Pause scheduled syncs')),
      h(
        'p',
        { id: 'paused-hint', class: 'hint' },
        'While paused, nothing syncs on its own; Run on the dashboard still works.',
      ),
    ),
    panel(
      'school-h',
      'School',
      ...field(
        timeZone,
        'Time zone',
        'time-zone-hint',
        'Decides which evenings are “today” and when the daily notices are sent.',
      ),
      ...field(
        emails,
        'Who is notified (e-mail addresses)',
        'emails-hint',
        `One address per line, at most ${MAX_EMAILS}. They are e-mailed when removals are held for review, when runs keep failing and when the data is more than a day old.`,
      ),
      emailError,
    ),
    h('div', { class: 'actions' }, saveButton),
    saveResult,
  );

  replace(
    root,
    h('h1', {}, 'Settings › Data Input Source'),
    setupChecklist(egress),
    form,
    thresholds instanceof Error
      ? errorBox(thresholds, 'The removal thresholds could not be loaded')
      : thresholdsPanel(thresholds),
  );
}
