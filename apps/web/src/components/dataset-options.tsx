// The options of a "Dataset" select (the study designer, evaluations, trace generation): each dataset with its size.
export function DatasetOptions({ datasets }: { datasets: readonly { id: string; name: string; rowCount: number }[] }) {
  return (
    <>
      {datasets.length === 0 ? <option value="">(no datasets registered)</option> : null}
      {datasets.map((d) => (
        <option key={d.id} value={d.id}>
          {d.name} ({d.rowCount} problems)
        </option>
      ))}
    </>
  )
}
