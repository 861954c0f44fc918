// esbuild bundles the stylesheet the entry point imports into main-<hash>.css.
declare module '*.css';
