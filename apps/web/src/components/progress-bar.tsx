// A labelled progress bar (role progressbar with its value for screen readers), filled to value / max.
export function ProgressBar({ value, max, label, valueText, testId }: { value: number; max: number; label: string; valueText?: string; testId?: string }) {
  const percent = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0
  return (
    <div
      className="h-2.5 w-full overflow-hidden rounded-full bg-slate-100"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={value}
      aria-valuetext={valueText}
      aria-label={label}
      data-testid={testId}
    >
      <div className="h-full rounded-full bg-indigo-600 transition-all" style={{ width: `${percent}%` }} />
    </div>
  )
}
