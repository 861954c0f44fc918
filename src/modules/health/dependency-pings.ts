/** Readiness asks each of these whether its dependency answers; `redis` only when it is used. */
export interface DependencyPings {
  readonly database: () => Promise<unknown>;
  readonly redis?: () => Promise<unknown>;
}
