/**
 * Where the session's tokens live between page loads: IndexedDB, not localStorage. Tabs take turns
 * refreshing under a Web Lock, and the tab that gets the lock next must see the pair the previous
 * one stored; IndexedDB commits are visible to every tab at once, while localStorage reaches other
 * tabs' processes a moment later, and a tab that read the old pair would spend a spent refresh
 * token, which ends the session.
 */

export interface StoredPair {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  lifetimeMs: number;
}

const DATABASE = 'tokenpool';
const STORE = 'session';
const KEY = 'pair';

let opened: Promise<IDBDatabase> | undefined;

function database(): Promise<IDBDatabase> {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

/** Runs one request in its own transaction and answers once the transaction has committed. */
async function run<T>(mode: IDBTransactionMode, request: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const pending = request(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(pending.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

export const sessionStore = {
  read: (): Promise<StoredPair | undefined> => run('readonly', (store) => store.get(KEY)),
  write: async (pair: StoredPair): Promise<void> => {
    await run('readwrite', (store) => store.put(pair, KEY));
  },
  clear: async (): Promise<void> => {
    await run('readwrite', (store) => store.delete(KEY));
  },
};
