import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly location: string | undefined;
  readonly text: string;
}

export interface RequestInit {
  readonly method?: 'GET' | 'POST';
  /** Sent as application/x-www-form-urlencoded. */
  readonly form?: Record<string, string>;
  readonly headers?: Record<string, string>;
}

/** Keep-alive connections shared by clients: what a load generator, or a browser, reuses. */
export function keepAliveAgent(maxSockets = 64): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

/**
 * A browser-like HTTP client over node:http: one cookie jar, sent to whichever base URL the
 * next request goes to (two app instances behind one host name share cookies, as they do
 * behind a load balancer). Redirects are returned, not followed, unless `follow` is used.
 * Small on purpose: it is also the load generator of the sign-in benchmark.
 */
export class BrowserClient {
  readonly cookies = new Map<string, string>();

  constructor(private readonly agent: Agent = keepAliveAgent()) {}

  /** The `Cookie` header this client sends now. */
  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  request(baseUrl: string, path: string, init: RequestInit = {}): Promise<HttpResponse> {
    const url = new URL(path, baseUrl);
    const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    const cookie = this.cookieHeader();
    if (cookie) headers.cookie = cookie;
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { agent: this.agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: init.method ?? (body ? 'POST' : 'GET'), headers },
        (res) => {
          this.#keepCookies(res.headers['set-cookie']);
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              location: res.headers.location,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${init.method ?? 'GET'} ${path}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Sends the request, then follows redirects with GET as a browser does (at most 10). */
  async follow(baseUrl: string, path: string, init: RequestInit = {}): Promise<HttpResponse & { readonly requests: number }> {
    let response = await this.request(baseUrl, path, init);
    let requests = 1;
    while (response.status >= 300 && response.status < 400 && response.location) {
      if (requests > 10) throw new Error(`too many redirects from ${path}`);
      response = await this.request(baseUrl, response.location);
      requests += 1;
    }
    return { ...response, requests };
  }

  #keepCookies(lines: string[] | undefined): void {
    for (const line of lines ?? []) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = '', val = ''] = attribute.split('=');
        const k = key.trim().toLowerCase();
        return (k === 'max-age' && Number(val) <= 0) || (k === 'expires' && Date.parse(val) <= Date.now());
      });
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

export function csrfTokenIn(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error(`no CSRF token in page:\n${html.slice(0, 400)}`);
  return match[1]!;
}

/**
 * The example portal's login form fields with its CSRF token, read from the login page as a
 * browser would (showing that page starts the session the token lives in).
 */
export async function loginForm(client: BrowserClient, baseUrl: string, fields: Record<string, string>): Promise<Record<string, string>> {
  const page = await client.request(baseUrl, '/login');
  if (page.status !== 200) throw new Error(`the login page answered ${page.status}`);
  return { _csrf: csrfTokenIn(page.text), ...fields };
}
