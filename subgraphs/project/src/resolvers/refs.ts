/** A NOT NULL foreign key always finds its row; if not, the database is broken, so say which. */
export function required<T>(entityType: string, id: string) {
  return (row: T | null): T => {
    if (!row) throw new Error(`${entityType} ${id} referenced by a foreign key is missing`);
    return row;
  };
}
