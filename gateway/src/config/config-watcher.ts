/**
 * Reloads the fleet config on SIGHUP and when the file changes. A valid new
 * file is handed to `apply`; an invalid one is logged and the old config
 * stays in force.
 *
 * In Kubernetes the file is a ConfigMap volume: `switchyard.yaml` is a
 * symlink to `..data/switchyard.yaml`, and an update swaps the `..data`
 * symlink to a new timestamped folder (the file's own link never changes),
 * so a change of `..data` in the folder counts as a change of the file.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '@switchyard/observability/logger';
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { loadFleetConfig } from '@switchyard/fleet-config/load';

/** The symlink kubelet swaps atomically when a ConfigMap or Secret volume changes. */
const KUBELET_DATA_LINK = '..data';

export interface ConfigWatcherOptions {
  path: string;
  logger: Logger;
  apply: (config: FleetConfig) => Promise<void> | void;
  /** Completes a freshly read config (e.g. adds keys from elsewhere); may throw to refuse it. */
  complete?: (config: FleetConfig) => Promise<FleetConfig>;
  /** Coalesces bursts of file events. Default 200 ms. */
  debounceMs?: number;
}

export class ConfigWatcher {
  readonly #options: ConfigWatcherOptions;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<boolean> = Promise.resolve(true);

  constructor(options: ConfigWatcherOptions) {
    this.#options = options;
  }

  start(): void {
    const { path, debounceMs = 200 } = this.#options;
    const name = basename(path);
    // Watch the folder: editors replace files rather than write them in place, and kubelet swaps `..data`.
    this.#watcher = watch(dirname(path), (_, file) => {
      if (file !== null && file !== name && file !== KUBELET_DATA_LINK) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.reload('file change'), debounceMs);
    });
  }

  /** Reloads now; resolves true when the new config was applied. */
  reload(reason: string): Promise<boolean> {
    this.#reloading = this.#reloading.then(async () => {
      const { path, logger, apply } = this.#options;
      try {
        const loaded = await loadFleetConfig(path);
        const config = this.#options.complete ? await this.#options.complete(loaded) : loaded;
        await apply(config);
        logger.info({ reason, path }, 'fleet config reloaded');
        return true;
      } catch (error) {
        logger.error({ reason, path, error: (error as Error).message }, 'fleet config reload refused; keeping the previous config');
        return false;
      }
    });
    return this.#reloading;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
  }
}
