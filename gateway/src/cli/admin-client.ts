/** A small client for the gateway's admin API, used by the `switchyard` CLI. */
export class AdminError extends Error {
  override name = 'AdminError';
}

export class AdminClient {
  readonly #base: string;
  readonly #key: string;
  readonly #fetch: typeof fetch;

  /** `fetchImpl` defaults to the global fetch; tests pass an admin app's own. */
  constructor(baseUrl: string, key: string, fetchImpl: typeof fetch = fetch) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.#key = key;
    this.#fetch = fetchImpl;
  }

  /** Sends one request; a non-2xx answer becomes an AdminError with the API's `error` message and the status. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    let text: string;
    try {
      res = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.#key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      text = await res.text();
    } catch (error) {
      throw new AdminError(`cannot reach the admin API at ${this.#base}: ${(error as Error).message}`);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      throw new AdminError(`the admin API at ${this.#base} answered ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const message = (payload as { error?: unknown } | null)?.error;
      throw new AdminError(`${typeof message === 'string' ? message : res.statusText} (HTTP ${res.status})`);
    }
    return payload as T;
  }
}
