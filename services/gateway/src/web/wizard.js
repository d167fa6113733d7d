import { api } from './api.js';
import { announce, errorBox, h, replace, table } from './dom.js';

/** Getting Started: address and key → test → datasets ticked or missing → save → first sync. */
export async function renderWizard(root) {
  const [settings, egress] = await Promise.all([api.settings(), api.egress().catch(() => null)]);
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
  const result = h('section', { 'aria-live': 'polite' });
  const saveResult = h('div', { 'aria-live': 'polite' });
  const saveButton = h(
    'button',
    { class: 'primary', type: 'button', disabled: !settings.configured },
    'Save settings',
  );
  const runButton = h(
    'button',
    { class: 'primary', type: 'button', disabled: !settings.configured },
    'Run first sync',
  );

  const values = () => ({
    isamsUrl: url.value.trim(),
    ...(key.value.trim() ? { apiKey: key.value.trim() } : {}),
    format: format.value,
  });

  const testButton = h('button', { class: 'primary', type: 'submit' }, 'Test connection');
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        testButton.disabled = true;
        replace(
          result,
          h('p', {}, 'Testing the connection to iSAMS… this can take a minute for a large school.'),
        );
        try {
          const r = await api.testConnection(values());
          const present = r.datasets.filter((d) => d.present).length;
          replace(
            result,
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
                  h(
                    'strong',
                    {},
                    'Tick these in iSAMS (API Services Manager › your Batch API key › Methods):',
                  ),
                  h(
                    'ul',
                    {},
                    r.missing.map((m) => h('li', {}, m)),
                  ),
                )
              : null,
            table(
              'Datasets',
              ['Dataset (as named in iSAMS)', 'Returned', 'Records'],
              r.datasets.map((d) => [
                d.adminName,
                h('span', { class: d.present ? 'ok' : 'bad' }, d.present ? '✓ ticked' : '✗ missing'),
                String(d.recordCount),
              ]),
            ),
          );
          saveButton.disabled = !r.ok && r.error !== null;
          announce(r.ok ? 'Connection works' : 'Connection needs attention');
        } catch (err) {
          replace(result, errorBox(err, 'The test could not run'));
        } finally {
          testButton.disabled = false;
        }
      },
    },
    h('label', { for: 'isams-url' }, 'iSAMS web address'),
    h(
      'p',
      { id: 'url-hint', class: 'hint' },
      'The address you use to sign in to iSAMS, e.g. https://yourschool.isams.cloud',
    ),
    url,
    h('label', { for: 'api-key' }, 'Batch API key'),
    h(
      'p',
      { id: 'key-hint', class: 'hint' },
      settings.keyLast4
        ? `A key ending …${settings.keyLast4} is saved. Leave empty to keep it; a different iSAMS address needs the key again.`
        : 'Created in iSAMS › API Services Manager. It is stored encrypted and never shown again.',
    ),
    key,
    h('label', { for: 'format' }, 'Format'),
    format,
    h('div', { class: 'actions' }, testButton),
  );

  saveButton.addEventListener('click', async () => {
    saveButton.disabled = true;
    try {
      const saved = await api.saveSettings({ ...values(), enabled: true });
      key.value = '';
      replace(
        saveResult,
        h(
          'div',
          { class: 'success-box', role: 'status' },
          `Settings saved (key …${saved.keyLast4}). Syncs run every ${saved.scheduleMinutes} minutes.`,
        ),
      );
      runButton.disabled = false;
    } catch (err) {
      replace(saveResult, errorBox(err, 'Settings were not saved'));
    } finally {
      saveButton.disabled = false;
    }
  });
  runButton.addEventListener('click', async () => {
    runButton.disabled = true;
    try {
      await api.runSync({ dryRun: false });
      location.hash = '#/dashboard';
    } catch (err) {
      replace(saveResult, errorBox(err, 'The sync could not start'));
      runButton.disabled = false;
    }
  });

  replace(
    root,
    h('h1', {}, 'Getting Started'),
    h(
      'ol',
      { class: 'steps' },
      h(
        'li',
        {},
        'In iSAMS, create one Batch API key that returns the 14 datasets listed after the test, and set its cache to refresh every hour.',
      ),
      h('li', {}, 'Allow-list our addresses below in the iSAMS API Services Manager.'),
      h('li', {}, 'Enter the address and key, test, save, and run the first sync.'),
    ),
    egress
      ? h(
          'section',
          { class: 'panel', 'aria-labelledby': 'egress-h' },
          h('h2', { id: 'egress-h' }, 'Addresses to allow-list in iSAMS'),
          egress.egressIps.length
            ? h(
                'ul',
                {},
                egress.egressIps.map((ip) => h('li', { class: 'mono' }, ip)),
              )
            : h('p', {}, 'No fixed addresses are configured for this installation.'),
          h('h3', {}, 'Integrator Properties (where iSAMS asks for them)'),
          h(
            'ul',
            {},
            egress.integratorProperties.map((p) => h('li', {}, p)),
          ),
          egress.instructions ? h('p', { class: 'hint' }, egress.instructions) : null,
        )
      : null,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'source-h' },
      h('h2', { id: 'source-h' }, 'Data source'),
      form,
    ),
    result,
    h('div', { class: 'actions' }, saveButton, runButton),
    saveResult,
  );
  url.focus();
}
