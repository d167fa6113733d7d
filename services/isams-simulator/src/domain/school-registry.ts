import { normaliseApiKey } from './key-policy';
import type { SimulatedSchool } from './simulated-school';
import { SimErrors } from './simulator-errors';

/** All simulated schools of one simulator process, addressable by id and by API key. */
export class SchoolRegistry {
  private readonly schools = new Map<string, SimulatedSchool>();

  add(school: SimulatedSchool): void {
    if (this.schools.has(school.schoolId)) throw SimErrors.SIM_SCHOOL_EXISTS({ schoolId: school.schoolId });
    this.assertKeyFree(school.key.apiKey, school.schoolId);
    this.schools.set(school.schoolId, school);
  }

  assertKeyFree(apiKey: string, schoolId: string): void {
    const owner = this.byKey(apiKey);
    if (owner && owner.schoolId !== schoolId) throw SimErrors.SIM_API_KEY_IN_USE();
  }

  get(schoolId: string): SimulatedSchool {
    const school = this.schools.get(schoolId);
    if (!school) throw SimErrors.SIM_SCHOOL_NOT_FOUND({ schoolId });
    return school;
  }

  remove(schoolId: string): void {
    this.get(schoolId);
    this.schools.delete(schoolId);
  }

  list(): SimulatedSchool[] {
    return [...this.schools.values()];
  }

  /** The school whose key matches `rawKey` (braced or bare, any case). */
  byKey(rawKey: string): SimulatedSchool | undefined {
    const wanted = normaliseApiKey(rawKey);
    for (const s of this.schools.values()) if (s.key.apiKey === wanted) return s;
    return undefined;
  }
}
