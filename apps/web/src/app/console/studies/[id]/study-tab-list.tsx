'use client'
// The study page's tab list (WAI-ARIA tabs: arrow keys, Home and End move between tabs; only the selected tab is in
// the Tab order) and the "All sections" link beside it. Each tab is also an address (?tab=…): a click replaces the
// URL without a server round trip, so a reload or a shared link opens the same tab.
import { useRef } from 'react'

import { ALL_SECTIONS, type StudyTabId, type StudyTabSelection } from './study-tabs'

export const tabId = (tab: StudyTabId) => `study-tab-${tab}`
export const panelId = (tab: StudyTabId) => `study-panel-${tab}`

export function StudyTabList({
  tabs,
  selected,
  hrefOf,
  onSelect,
}: {
  tabs: readonly { id: StudyTabId; label: string }[]
  selected: StudyTabSelection
  hrefOf: (tab: StudyTabSelection) => string
  onSelect: (tab: StudyTabSelection) => void
}) {
  const buttons = useRef<(HTMLButtonElement | null)[]>([])
  const focusTab = (index: number) => {
    const next = (index + tabs.length) % tabs.length
    buttons.current[next]?.focus()
    onSelect(tabs[next]!.id)
  }
  const onKeyDown = (event: React.KeyboardEvent, index: number) => {
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }
    if (!(event.key in moves)) return
    event.preventDefault()
    focusTab(moves[event.key]!)
  }
  // with every section shown no tab is selected: the first one takes the Tab stop
  const tabStop = tabs.some((t) => t.id === selected) ? selected : tabs[0]?.id

  return (
    <div className="flex flex-wrap items-end justify-between gap-x-4 gap-y-2 border-b border-slate-200">
      <div role="tablist" aria-label="Study sections" className="-mb-px flex max-w-full overflow-x-auto" data-testid="study-tabs">
        {tabs.map((t, index) => {
          const isSelected = t.id === selected
          return (
            <button
              key={t.id}
              ref={(el) => {
                buttons.current[index] = el
              }}
              type="button"
              role="tab"
              id={tabId(t.id)}
              aria-selected={isSelected}
              aria-controls={isSelected ? panelId(t.id) : undefined}
              tabIndex={t.id === tabStop ? 0 : -1}
              onClick={() => onSelect(t.id)}
              onKeyDown={(e) => onKeyDown(e, index)}
              className={`shrink-0 border-b-2 px-3 py-2 text-sm font-medium whitespace-nowrap focus-visible:outline-2 focus-visible:outline-offset-[-2px] focus-visible:outline-indigo-600 ${
                isSelected ? 'border-indigo-600 text-indigo-800' : 'border-transparent text-slate-700 hover:border-slate-300 hover:text-slate-900'
              }`}
            >
              {t.label}
            </button>
          )
        })}
      </div>
      <a
        href={hrefOf(ALL_SECTIONS)}
        aria-current={selected === ALL_SECTIONS ? 'page' : undefined}
        onClick={(e) => {
          // a plain link still opens in a new tab (or prints) as links do; a click here stays in the page
          if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return
          e.preventDefault()
          onSelect(ALL_SECTIONS)
        }}
        className={`mb-2 text-sm ${selected === ALL_SECTIONS ? 'font-semibold text-slate-900' : 'text-indigo-700 hover:underline'}`}
        data-testid="study-all-sections"
      >
        All sections
      </a>
    </div>
  )
}
