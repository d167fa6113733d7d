import { api } from './api.js';
import { setupChecklist, sourceFields, testResultView } from './data-source.js';
import { announce, errorBox, h, panel, replace } from './dom.js';

/** Getting Started: set-up checklist → address and key → test → datasets ticked or missing → save → first sync. */
export async function renderWizard(root) {
  const [settings, egress] = await Promise.all([api.settings(), api.egress().catch(() => null)]);
  const fields = sourceFields(settings);
  const { key } = fields;
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

  const values = fields.values;

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
          replace(result, ...testResultView(r));
          saveButton.disabled = !r.ok && r.error !== null;
          announce(r.ok ? 'Connection works' : 'Connection needs attention');
        } catch (err) {
          replace(result, errorBox(err, 'The test could not run'));
        } finally {
          testButton.disabled = false;
        }
      },
    },
    ...fields.nodes,
    h('div', { class: 'actions' }, testButton),
  );

  saveButton.addEventListener('click', async () => {
    saveButton.disabled = true;
    try {
      const saved = await api.saveSettings(values());
      fields.showKey(saved.keyLast4);
      key.value = '';
      replace(
        saveResult,
        h(
          'div',
          { class: 'success-box', role: 'status' },
          saved.enabled
            ? `Settings saved (key …${saved.keyLast4}). Syncs run every ${saved.scheduleMinutes} minutes.`
            : `Settings saved (key …${saved.keyLast4}). Scheduled syncs are paused (Settings › Data Input Source).`,
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
    h('p', {}, 'Set up iSAMS as below, then enter the address and key, test, save, and run the first sync.'),
    setupChecklist(egress),
    panel('source-h', 'Data source', form),
    result,
    h('div', { class: 'actions' }, saveButton, runButton),
    saveResult,
  );
  fields.url.focus();
}
