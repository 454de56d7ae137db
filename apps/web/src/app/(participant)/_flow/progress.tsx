// "Task 2 of 4" as a progress bar (tasks answered so far), visible during the tasks.
export function TaskProgress({ done, total }: { done: number; total: number }) {
  const percent = total > 0 ? Math.round((done / total) * 100) : 0
  return (
    <div className="space-y-1">
      <div
        role="progressbar"
        aria-label="Tasks answered"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
        aria-valuetext={`${done} of ${total} tasks answered`}
        className="h-2 w-full overflow-hidden rounded-full bg-slate-200"
        data-testid="task-progress"
      >
        <div className="h-full rounded-full bg-indigo-600 transition-[width]" style={{ width: `${percent}%` }} />
      </div>
      <p className="text-xs text-slate-600">
        {done} of {total} answered
      </p>
    </div>
  )
}
