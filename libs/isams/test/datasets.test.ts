import { describe, expect, it } from 'vitest';
import { DATASET_ARTICLE_NAMES, DATASETS, DATASET_IDS, datasetArticleName } from '../src/index';

describe('dataset names', () => {
  it('lists the 14 datasets to tick in the help article’s own words and order', () => {
    expect(DATASET_ARTICLE_NAMES).toEqual([
      'HR Manager Datasets - Current Staff',
      'Pupil Manager Datasets - Contacts (Filtered)',
      'Pupil Manager Datasets - Current Students',
      'Pupil Manager Datasets - Custom Group Membership',
      'Pupil Manager Datasets - Custom Groups',
      'School Manager Datasets - Academic Houses',
      'School Manager Datasets - Boarding Houses',
      'School Manager Datasets - School Forms',
      'School Manager Datasets - School Divisions',
      'School Manager Datasets - Year Groups',
      'Teaching Manager Datasets - Departments & Subjects',
      'Teaching Manager Datasets - Teaching Forms',
      'Teaching Manager Datasets - Teaching Sets',
      'Teaching Manager Datasets - Teaching Set Lists',
    ]);
  });

  it('derives each article name from the admin name (one source)', () => {
    for (const id of DATASET_IDS) {
      const [module, dataset] = DATASETS[id].adminName.split(' – ');
      expect(datasetArticleName(id)).toBe(`${module} Datasets - ${dataset}`);
    }
  });
});
