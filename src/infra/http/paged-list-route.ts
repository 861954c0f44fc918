import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, FastifyTypeProviderDefault } from 'fastify';
import type { Static, TObject, TSchema } from 'typebox';
import type { Role } from './principal.js';
import { Paged, PageQuery, problems, readPage } from './schemas.js';
import type { Scope } from './scopes.js';

type App = Parameters<FastifyPluginAsyncTypebox>[0];

/** How one request's page is read: its rows at a limit and an offset, and their total. */
interface PageSource<T> {
  rows(limit: number, offset: number): Promise<T[]>;
  count(): Promise<number>;
}

interface PagedListRoute<Item extends TSchema, Query extends TSchema, Params extends TObject> {
  auth: Role;
  /** The scope an API key needs; absent, the route refuses keys. */
  scope?: Scope;
  operationId: string;
  tags: string[];
  summary: string;
  description: string;
  params?: Params;
  /** A query with the page's own parameters and any filters. @defaultValue PageQuery */
  querystring?: Query;
  /** The schema of one row. */
  item: Item;
  /** The problems the route answers besides the 401 and 403 its `auth` adds. @defaultValue none */
  problems?: number[];
  /** Checks the request (a throw refuses it) and says where its page comes from. */
  source(
    request: FastifyRequest<{ Querystring: Static<Query>; Params: Static<Params> }>,
  ): PageSource<Static<Item>> | Promise<PageSource<Static<Item>>>;
}

/**
 * A GET route answering one page of a list, `Paged(item)` with its meta: the schema every list
 * shares and the reading of the page are here, so a list states only what differs.
 */
export function pagedListRoute<
  Item extends TSchema,
  Query extends TSchema = typeof PageQuery,
  Params extends TObject = TObject,
>(app: App, url: string, route: PagedListRoute<Item, Query, Params>): void {
  const { auth, scope, operationId, tags, summary, description, params, querystring = PageQuery, item, source } = route;
  // TypeBox's provider cannot resolve a schema that is still generic here: the route is typed by
  // this function's own parameters instead, which the schema below states to Fastify.
  app.withTypeProvider<FastifyTypeProviderDefault>().get(
    url,
    {
      config: { auth, ...(scope ? { scope } : {}) },
      schema: {
        operationId,
        tags,
        summary,
        description,
        ...(params ? { params } : {}),
        querystring,
        response: { 200: Paged(item), ...problems(...(route.problems ?? [])) },
      },
    },
    async (request: FastifyRequest<{ Querystring: Static<Query>; Params: Static<Params> }>) => {
      const { rows, count } = await source(request);
      // Whatever else it filters on, the query holds the page and its size (PageQuery's defaults).
      return readPage(request.query as PageQuery, rows, count);
    },
  );
}
