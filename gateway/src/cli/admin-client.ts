/** A small client for the gateway's admin API, used by the `switchyard` CLI. */
export class AdminError extends Error {
  override name = 'AdminError';
}

export class AdminClient {
  readonly #base: string;
  readonly #key: string;

  constructor(baseUrl: string, key: string) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.#key = key;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.#base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.#key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new AdminError(`cannot reach the admin API at ${this.#base}: ${(error as Error).message}`);
    }
    const payload = (await res.json().catch(() => ({}))) as T & { error?: string };
    if (!res.ok) throw new AdminError(`${res.status}: ${payload.error ?? res.statusText}`);
    return payload;
  }
}
