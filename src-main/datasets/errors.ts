/** A data set problem the user can act on (bad file, unknown id, duplicate import): one clear line. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}
