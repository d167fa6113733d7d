import type { DataSourceSettings, PutSettingsBody, PutSettingsInput } from './models/connector.models';

/** What a school's first save gets for the fields its form did not send. */
export const FIRST_SAVE_DEFAULTS = { format: 'xml', scheduleMinutes: 60, enabled: true } as const;

/**
 * The complete settings to store when an admin saves `body` over `current`: every field the body
 * leaves out keeps its stored value (the first time: {@link FIRST_SAVE_DEFAULTS}), so a form that
 * shows only some fields (the Getting Started wizard shows no schedule) cannot reset the others.
 * An empty address is left for the connector to refuse with its own message. The save is made over
 * the version the admin's page was loaded at (`body.version`), else over `current`'s: either way
 * the connector refuses it if the settings were saved since (a version of 0 — none stored — is
 * sent as -1: "only while there are none").
 */
export function settingsToSave(current: DataSourceSettings, body: PutSettingsBody): PutSettingsInput {
  const stored = current.configured ? current : null;
  return {
    isamsUrl: body.isamsUrl ?? stored?.isamsUrl ?? '',
    ...(body.apiKey === undefined ? {} : { apiKey: body.apiKey }),
    format: body.format ?? stored?.format ?? FIRST_SAVE_DEFAULTS.format,
    scheduleMinutes: body.scheduleMinutes ?? stored?.scheduleMinutes ?? FIRST_SAVE_DEFAULTS.scheduleMinutes,
    enabled: body.enabled ?? stored?.enabled ?? FIRST_SAVE_DEFAULTS.enabled,
    timeZone: body.timeZone ?? stored?.timeZone ?? '',
    notificationEmails: body.notificationEmails ?? stored?.notificationEmails ?? [],
    expectedVersion: (body.version ?? current.version) || -1,
  };
}
