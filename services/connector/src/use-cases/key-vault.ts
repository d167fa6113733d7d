import { isAppError, isTransientKind } from '@isams-sync/errors';
import type { Logger } from '@isams-sync/logger';
import { isamsOrigin } from '../domain/key-binding';
import type { KeyBinding } from '../domain/key-binding';
import { isLegacyKey } from '../domain/school-settings';
import type { EncryptedKey, SchoolSettings } from '../domain/school-settings';
import type { KeyCipher, KeyRevealer, StoredKeys } from './ports';

const bindingOf = (s: Pick<SchoolSettings, 'tenantId' | 'isamsUrl'>): KeyBinding => ({
  tenantId: s.tenantId,
  origin: isamsOrigin(s.isamsUrl),
});

/**
 * The only way to the stored iSAMS key: sealed bound to its school and host, revealed only for the
 * stored address, legacy keys (school-only AAD) bound to their stored address when first met.
 */
export class KeyVault implements KeyRevealer {
  constructor(
    private readonly repo: StoredKeys,
    private readonly cipher: KeyCipher,
    private readonly logger: Logger,
  ) {}

  get currentKekId(): string {
    return this.cipher.currentKekId;
  }

  /** Encrypts a key entered for `isamsUrl`, bound to the school and that address's host. */
  seal(tenantId: string, isamsUrl: string, plaintext: string): EncryptedKey {
    return this.cipher.encrypt(bindingOf({ tenantId, isamsUrl }), plaintext);
  }

  /**
   * The key, for sending to the stored address's host only (callers check the target's host first,
   * `assertStoredKeyUsableFor`). A bound key whose stored address was changed to another host does
   * not decrypt (`CONNECTOR_KEY_DECRYPT_FAILED`). A legacy key is bound on the way.
   */
  async reveal(settings: SchoolSettings): Promise<string> {
    const plaintext = this.cipher.decrypt(bindingOf(settings), settings.key);
    if (isLegacyKey(settings.key)) await this.bind(settings, plaintext);
    return plaintext;
  }

  /**
   * Re-encrypts the stored key under the current KEK, bound to its stored address; false when it
   * already was both (or the settings changed meanwhile).
   */
  async reencrypt(settings: SchoolSettings): Promise<boolean> {
    if (!isLegacyKey(settings.key) && settings.key.kekId === this.cipher.currentKekId) return false;
    const plaintext = this.cipher.decrypt(bindingOf(settings), settings.key);
    return this.repo.replaceKey(
      settings.tenantId,
      settings,
      this.seal(settings.tenantId, settings.isamsUrl, plaintext),
    );
  }

  /**
   * Binds every legacy key to its stored address (start-up). A key that cannot be decrypted is
   * logged and left as it is: runs report it, and entering the key again replaces it. A database
   * that does not answer (a transient failure) is thrown: the start tries the binding again
   * (idempotent: a key bound is no longer listed, a replace is conditional on the stored key).
   */
  async bindLegacyKeys(): Promise<{ bound: number; failed: number }> {
    let bound = 0;
    let failed = 0;
    for await (const s of this.repo.withUnboundKeys()) {
      try {
        if (await this.reencrypt(s)) bound += 1;
      } catch (err) {
        if (isAppError(err) && isTransientKind(err.kind)) throw err;
        failed += 1;
        this.logger.warn(
          { tenantId: s.tenantId, code: (err as { code?: string }).code },
          'stored iSAMS key not bound to its host: it does not decrypt',
        );
      }
    }
    if (bound + failed > 0) this.logger.info({ bound, failed }, 'legacy iSAMS keys bound to their hosts');
    return { bound, failed };
  }

  private async bind(settings: SchoolSettings, plaintext: string): Promise<void> {
    const replaced = await this.repo.replaceKey(
      settings.tenantId,
      settings,
      this.seal(settings.tenantId, settings.isamsUrl, plaintext),
    );
    if (replaced) this.logger.info({ tenantId: settings.tenantId }, 'legacy iSAMS key bound to its host');
  }
}
