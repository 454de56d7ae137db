import { ProgressBar } from '@/components/progress-bar'

// "Task 2 of 4" as a progress bar (tasks answered so far), visible during the tasks.
export function TaskProgress({ done, total }: { done: number; total: number }) {
  return (
    <div className="space-y-1">
      <ProgressBar value={done} max={total} label="Tasks answered" valueText={`${done} of ${total} tasks answered`} testId="task-progress" />
      <p className="text-xs text-slate-600">
        {done} of {total} answered
      </p>
    </div>
  )
}
