// The database a MongoDB connection string names in its path (pure: the configuration
// checks it against MONGO_DB without loading the driver; the store connects to it).

/** The database named in a connection string's path, if any. */
export function databaseOfUrl(url: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(url.trim());
  const name = m?.[1] === undefined ? '' : decodeURIComponent(m[1]);
  return name === '' ? undefined : name;
}
