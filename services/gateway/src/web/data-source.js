// What the Getting Started wizard and Settings › Data Input Source share: the iSAMS set-up
// checklist (shown before the first test), the address/key/format fields and the test result
// (whose datasets table the dashboard's run progress shows too).
import { errorBox, field, h, panel, table } from './dom.js';

/**
 * The iSAMS set-up the school's administrator does before the first test, in the help article's
 * words: the datasets to tick, the cache to refresh hourly, our addresses, the Integrator Properties.
 */
export function setupChecklist(egress) {
  if (!egress) {
    return panel(
      'setup-h',
      'Before you test: set up iSAMS',
      h('p', { class: 'warn' }, 'The set-up details could not be loaded; reload the page to try again.'),
    );
  }
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'setup-h', id: 'setup-checklist' },
    h('h2', { id: 'setup-h' }, 'Before you test: set up iSAMS'),
    h('p', { class: 'hint' }, 'In iSAMS Control Panel › API Services Manager:'),
    h(
      'ol',
      { class: 'steps' },
      h(
        'li',
        {},
        h(
          'p',
          {},
          `Manage Batch API Keys: create one Batch API key and tick these ${egress.datasets.length} datasets on its Batch Methods tab:`,
        ),
        h(
          'ul',
          { id: 'datasets-to-tick', 'aria-label': 'Datasets to tick' },
          egress.datasets.map((name) => h('li', {}, name)),
        ),
      ),
      h(
        'li',
        { id: 'cache-instruction' },
        'Set the key’s cache to refresh every hour (not the default 24 hours), so SchoolCloud sees changes within the hour.',
      ),
      h(
        'li',
        {},
        h('p', {}, 'Manage API Service Security › IP Restrictions: allow our addresses:'),
        egress.egressIps.length
          ? h(
              'ul',
              { id: 'egress-addresses', 'aria-label': 'Addresses to allow-list' },
              egress.egressIps.map((ip) => h('li', { class: 'mono' }, ip)),
            )
          : h('p', {}, 'No fixed addresses are configured for this installation.'),
      ),
      h(
        'li',
        {},
        h('p', {}, 'Where iSAMS asks for Integrator Properties, enter:'),
        h(
          'ul',
          { id: 'integrator-properties', 'aria-label': 'Integrator Properties' },
          egress.integratorProperties.map((p) => h('li', {}, p)),
        ),
      ),
    ),
  );
}

/** The iSAMS address, write-only key and format fields (labelled, with hints). */
export function sourceFields(settings) {
  const url = h('input', {
    id: 'isams-url',
    type: 'url',
    required: true,
    placeholder: 'https://yourschool.isams.cloud',
    value: settings.isamsUrl ?? '',
    'aria-describedby': 'url-hint',
  });
  const key = h('input', {
    id: 'api-key',
    type: 'password',
    autocomplete: 'off',
    'aria-describedby': 'key-hint',
    required: !settings.configured,
  });
  const format = h(
    'select',
    { id: 'format' },
    h('option', { value: 'xml' }, 'XML (recommended)'),
    h('option', { value: 'json' }, 'JSON'),
  );
  format.value = settings.format ?? 'xml';
  const keyHint = h('p', { id: 'key-hint', class: 'hint' });
  const showKey = (last4) => {
    keyHint.textContent = last4
      ? `A key ending …${last4} is saved; it is never shown. Enter a new key only to replace it — a different iSAMS address needs the key again.`
      : 'Created in iSAMS › API Services Manager. It is stored encrypted and never shown again.';
  };
  showKey(settings.keyLast4);
  return {
    url,
    key,
    format,
    showKey,
    /** What a test or a save sends: the key only when one was typed. */
    values: () => ({
      isamsUrl: url.value.trim(),
      ...(key.value.trim() ? { apiKey: key.value.trim() } : {}),
      format: format.value,
    }),
    nodes: [
      ...field(
        url,
        'iSAMS web address',
        'url-hint',
        'The address you use to sign in to iSAMS, e.g. https://yourschool.isams.cloud',
      ),
      h('label', { for: 'api-key' }, 'Batch API key'),
      keyHint,
      key,
      h('label', { for: 'format' }, 'Format'),
      format,
    ],
  };
}

/** The result of Test connection: which of the 14 datasets the key returns, what to tick. */
export function testResultView(r) {
  const present = r.datasets.filter((d) => d.present).length;
  return [
    h('h2', { id: 'test-result' }, r.ok ? 'Connection works' : 'Connection needs attention'),
    r.error ? errorBox(r.error, 'iSAMS answered with an error') : null,
    h(
      'p',
      { class: r.ok ? 'ok' : 'warn' },
      `${present} of ${r.datasets.length} datasets are returned by this key.`,
    ),
    r.missing.length
      ? h(
          'div',
          { class: 'warning-box' },
          h('strong', {}, 'Tick these in iSAMS (API Services Manager › your Batch API key › Methods):'),
          h(
            'ul',
            {},
            r.missing.map((m) => h('li', {}, m)),
          ),
        )
      : null,
    datasetsTable('Datasets', 'Dataset (as named in iSAMS)', r.datasets, '✓ ticked'),
  ];
}

/** The datasets a fetch returned (a run's, or the connection test's) and their records; none: null. */
export function datasetsTable(caption, nameHeader, datasets, presentText) {
  return datasets.length
    ? table(
        caption,
        [nameHeader, 'Returned', 'Records'],
        datasets.map((d) => [
          d.adminName,
          h('span', { class: d.present ? 'ok' : 'bad' }, d.present ? presentText : '✗ missing'),
          String(d.recordCount),
        ]),
      )
    : null;
}
