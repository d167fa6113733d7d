import { describe, expect, it } from 'vitest';
import type { DataSourceSettings } from '../../src/domain/models/connector.models';
import { settingsToSave } from '../../src/domain/settings-update';

const stored: DataSourceSettings = {
  configured: true,
  isamsUrl: 'https://school.isams.cloud',
  keyLast4: '7777',
  format: 'json',
  scheduleMinutes: 180,
  enabled: false,
  nextRunAt: null,
  updatedAt: '2026-11-01T10:00:00.000Z',
  updatedBy: 'token:a',
  keyUpdatedAt: '2026-11-01T10:00:00.000Z',
  fetchPlan: { mode: 'whole', groups: [], contactsMethod: null, switchedBecause: null, switchedAt: null },
  timeZone: 'Europe/Dublin',
  notificationEmails: ['office@school.org'],
  version: 7,
};
const unconfigured: DataSourceSettings = {
  ...stored,
  configured: false,
  isamsUrl: null,
  keyLast4: null,
  format: 'xml',
  scheduleMinutes: 0,
  enabled: false,
  timeZone: 'Europe/London',
  notificationEmails: [],
  version: 0,
};

describe('settingsToSave: a save keeps what the form did not send', () => {
  it('keeps every stored field the body leaves out', () => {
    expect(settingsToSave(stored, {})).toEqual({
      isamsUrl: 'https://school.isams.cloud',
      format: 'json',
      scheduleMinutes: 180,
      enabled: false,
      timeZone: 'Europe/Dublin',
      notificationEmails: ['office@school.org'],
      expectedVersion: 7,
    });
  });

  it('takes what the body sends, including false, an empty list and a new key', () => {
    expect(
      settingsToSave(
        { ...stored, enabled: true },
        { enabled: false, notificationEmails: [], apiKey: 'NEW-KEY-0001', scheduleMinutes: 60 },
      ),
    ).toMatchObject({ enabled: false, notificationEmails: [], apiKey: 'NEW-KEY-0001', scheduleMinutes: 60 });
  });

  it('gives a first save the defaults: xml, hourly, enabled, the connector’s default time zone', () => {
    expect(
      settingsToSave(unconfigured, { isamsUrl: 'https://new.isams.cloud', apiKey: 'KEY-12345' }),
    ).toEqual({
      isamsUrl: 'https://new.isams.cloud',
      apiKey: 'KEY-12345',
      format: 'xml',
      scheduleMinutes: 60,
      enabled: true,
      timeZone: '',
      notificationEmails: [],
      expectedVersion: -1,
    });
    // No address at all: left empty for the connector to refuse ("isamsUrl: is required").
    expect(settingsToSave(unconfigured, {}).isamsUrl).toBe('');
  });
});

describe('settingsToSave: the version the save is made over', () => {
  it('is the version the page was loaded at, else the one just read; none stored is -1', () => {
    expect(settingsToSave(stored, { enabled: true, version: 5 }).expectedVersion).toBe(5);
    expect(settingsToSave(stored, { enabled: true }).expectedVersion).toBe(7);
    // A page that showed no settings: saved only while there are none, whatever was read since.
    expect(settingsToSave(stored, { isamsUrl: 'https://new.isams.cloud', version: 0 }).expectedVersion).toBe(
      -1,
    );
    expect(settingsToSave(unconfigured, { isamsUrl: 'https://new.isams.cloud' }).expectedVersion).toBe(-1);
  });
});
