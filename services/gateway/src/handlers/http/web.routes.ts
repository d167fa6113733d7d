import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Serves the Data Dashboard: the files of `webDir` are read once at start-up and only those names
 * are served (no path from the request ever reaches the file system). `/` is the page itself.
 */
export async function registerWebRoutes(app: FastifyInstance, webDir: string): Promise<void> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(webDir)) {
    const type = TYPES[extname(name)];
    if (type !== undefined) files.set(name, { body: readFileSync(join(webDir, name)), type });
  }
  const index = files.get('index.html');
  if (index === undefined) throw new Error(`No index.html in ${webDir}`);

  const send = (file: { body: Buffer; type: string }) => ({
    headers: { 'content-type': file.type, 'cache-control': 'no-cache' },
    body: file.body,
  });
  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const { headers, body } = send(index);
    return reply.headers(headers).send(body);
  });
  app.get<{ Params: { file: string } }>(
    '/assets/:file',
    { schema: { hide: true } },
    async (request, reply) => {
      const file = files.get(request.params.file);
      if (file === undefined || request.params.file === 'index.html') return reply.callNotFound();
      const { headers, body } = send(file);
      return reply.headers(headers).send(body);
    },
  );
}
