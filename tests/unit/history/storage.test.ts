import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/lib/errors';
import { describeStorage, isQuotaError, shouldAskPersistence, toStorageError } from '../../../src/history/storage';

describe('quota errors', () => {
  it('recognises every name and legacy code browsers use', () => {
    expect(isQuotaError(new DOMException('full', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaError(new DOMException('full', 'NS_ERROR_DOM_QUOTA_REACHED'))).toBe(true);
    expect(isQuotaError(Object.assign(new Error('legacy'), { code: 22 }))).toBe(true);
    expect(isQuotaError(Object.assign(new Error('firefox'), { code: 1014 }))).toBe(true);
    expect(isQuotaError(new DOMException('aborted', 'AbortError'))).toBe(false);
    expect(isQuotaError('QuotaExceededError')).toBe(false);
  });

  it('becomes storage-full with a sentence that says what to do; other errors pass through', () => {
    const error = toStorageError(new DOMException('full', 'QuotaExceededError'));
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'storage-full', message: expect.stringMatching(/delete the oldest entries.*Nothing already saved was lost\.$/) as unknown as string });
    const other = new TypeError('bug');
    expect(toStorageError(other)).toBe(other);
  });
});

describe('storage line and persistence rule', () => {
  it('describes the history, the site and whether it is kept', () => {
    expect(describeStorage({ history: 12_300_000, usage: 140_000_000, quota: 2_100_000_000, persisted: true })).toBe(
      'History: 12.3 MB · this site: 140 MB of 2.1 GB · kept until you delete it',
    );
    expect(describeStorage({ history: 0, usage: undefined, quota: undefined, persisted: false })).toBe('History: 0 B · the browser may clear it when space runs low');
  });

  it('asks once, after enough entries, and never when already persistent', () => {
    expect(shouldAskPersistence({ entries: 1, asked: false, persisted: false })).toBe(false);
    expect(shouldAskPersistence({ entries: 2, asked: false, persisted: false })).toBe(true);
    expect(shouldAskPersistence({ entries: 5, asked: true, persisted: false })).toBe(false);
    expect(shouldAskPersistence({ entries: 5, asked: false, persisted: true })).toBe(false);
    expect(shouldAskPersistence({ entries: 1, asked: false, persisted: false }, { afterEntries: 1 })).toBe(true);
  });
});
