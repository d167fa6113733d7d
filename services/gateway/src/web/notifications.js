import { h, table, when } from './dom.js';

const CONDITION_TEXT = {
  removals_held: 'Removals held for approval',
  runs_failing: 'Syncs keep failing',
  data_stale: 'Data more than a day old',
};

/**
 * The e-mails sent to the school's contacts in the last 7 days (at most one per kind a day): what
 * was told and when, never to whom (the addresses are in the settings).
 */
export function notificationsPanel(notifications) {
  return h(
    'section',
    { 'aria-labelledby': 'notifications-h', id: 'notifications' },
    h('h2', { id: 'notifications-h' }, 'E-mails to your contacts (last 7 days)'),
    notifications.length === 0
      ? h('p', {}, 'No e-mails were needed.')
      : table(
          'E-mails sent in the last 7 days',
          ['Day', 'About', 'Subject', 'Recipients', 'Sent'],
          notifications.map((n) => [
            n.day,
            CONDITION_TEXT[n.condition] ?? n.condition,
            n.subject,
            String(n.recipients),
            n.sentAt ? when(n.sentAt) : 'Sending…',
          ]),
        ),
  );
}
